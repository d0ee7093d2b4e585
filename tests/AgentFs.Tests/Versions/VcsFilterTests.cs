using System.Text;
using AgentFs.Versions;

namespace AgentFs.Tests.Versions;

/// <summary>Which paths are version-control internals, and that the library's diff, stat, patch and apply leave them out by default.</summary>
public class VcsFilterTests
{
    [Theory]
    [InlineData(".git", true)]
    [InlineData(".git/index", true)]
    [InlineData("proj/.git/objects/ab/cdef", true)]
    [InlineData("sub/.git", true)]          // a gitfile
    [InlineData("a/.hg/store/data", true)]
    [InlineData(".jj/repo", true)]
    [InlineData(".gitignore", false)]
    [InlineData("proj/.github/workflows/ci.yml", false)]
    [InlineData("x.git/y", false)]
    [InlineData("docs/git/.gitkeep", false)]
    public void Internal_paths_are_the_components_git_hg_and_jj(string path, bool expected) =>
        Assert.Equal(expected, VcsPaths.IsInternal(Encoding.UTF8.GetBytes(path)));

    [Theory]
    [InlineData("proj/.git/objects/ab/cdef0123", true)]
    [InlineData(".git/objects/pack/pack-1.pack", true)]
    [InlineData("proj/.git/refs/heads/main", false)]
    [InlineData("proj/objects/ab", false)]
    public void Git_object_files_are_those_under_git_objects(string path, bool expected) =>
        Assert.Equal(expected, VcsPaths.IsGitObjectFile(Encoding.UTF8.GetBytes(path)));

    [Fact]
    public void Diff_stat_patch_and_apply_leave_out_internals_unless_asked()
    {
        using var t = new TempStore();
        t.WriteBase("proj/.git/HEAD", "ref: refs/heads/main\n");
        t.WriteBase("proj/a.txt", "a\n");
        using (var store = t.Create())
        using (var fs = store.OpenFileSystem("main"))
        {
            fs.WriteAllText("/proj/.git/HEAD", "ref: refs/heads/other\n");
            fs.WriteAllText("/proj/.hg", "not really\n");
            fs.WriteAllText("/proj/a.txt", "b\n");
            fs.Flush();
        }
        using var s = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        Assert.Equal(["proj/a.txt"], s.Diff("base", "main").Select(c => c.Path));
        var listed = s.Diff("base", "main", new DiffOptions());
        Assert.Equal(2, listed.VcsLeftOut);
        Assert.Equal(3, s.Diff("base", "main", new DiffOptions { IncludeVcs = true }).Count);
        Assert.Equal(2, s.DiffStat("base", "main", new DiffOptions()).VcsLeftOut);
        using var patch = new MemoryStream();
        Assert.Equal(2, s.WritePatch("base", "main", patch).VcsLeftOut);
        Assert.DoesNotContain(".git", Encoding.UTF8.GetString(patch.ToArray()));
        Assert.Equal(2, s.Trace(new DiffOptions()).VcsLeftOut);

        // apply into a copy of the base that is not a git repository (no commits: nothing to fetch): files only.
        string target = Path.Combine(t.Root, "target");
        Directory.CreateDirectory(Path.Combine(target, "proj/.git"));
        File.WriteAllText(Path.Combine(target, "proj/.git/HEAD"), "ref: refs/heads/main\n");
        File.WriteAllText(Path.Combine(target, "proj/a.txt"), "a\n");
        var r = s.Apply("main", target);
        Assert.Equal(2, r.VcsLeftOut);
        Assert.Empty(r.GitBranches);
        Assert.Equal("b\n", File.ReadAllText(Path.Combine(target, "proj/a.txt")));
        Assert.Equal("ref: refs/heads/main\n", File.ReadAllText(Path.Combine(target, "proj/.git/HEAD")));
        Assert.False(File.Exists(Path.Combine(target, "proj/.hg")));
    }
}
