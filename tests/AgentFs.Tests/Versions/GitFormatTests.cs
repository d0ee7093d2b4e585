using System.Text;

namespace AgentFs.Tests.Versions;

/// <summary>The store's git formats next to what the real git prints for the same two trees.</summary>
public class GitFormatTests
{
    /// <summary>A git repository whose HEAD is the base and whose index is the branch's tree.</summary>
    private static string RepoWithBranchStaged(TempStore t, AgentStore store)
    {
        string repo = Path.Combine(t.Root, "repo");
        Directory.CreateDirectory(repo);
        Trees.Copy(t.BaseDir, repo);
        Git.Ok(repo, "init", "-q");
        Git.Ok(repo, "add", "-A");
        Git.Ok(repo, "commit", "-q", "-m", "base", "--allow-empty");
        foreach (var e in Directory.EnumerateFileSystemEntries(repo))
        {
            if (Path.GetFileName(e) == ".git") continue;
            if (Directory.Exists(e) && new FileInfo(e).LinkTarget == null) Directory.Delete(e, true);
            else File.Delete(e);
        }
        using (var fs = store.OpenState("main")) PatchGitTests.Export(fs, repo);
        Git.Ok(repo, "add", "-A");
        return repo;
    }

    private static (TempStore, AgentStore) Sample()
    {
        var t = new TempStore();
        t.WriteBase("src/main.c", string.Concat(Enumerable.Range(1, 50).Select(i => $"line {i}\n")));
        t.WriteBase("src/big.txt", string.Concat(Enumerable.Range(1, 400).Select(i => $"row {i}\n")));
        t.WriteBase("gone.txt", "bye\n");
        t.WriteBase("moved.txt", "moving\n");
        t.WriteBase("deep/dir/moved2.txt", "moving too\n");
        t.WriteBase("run.sh", "#!/bin/sh\n");
        t.WriteBase("pic.bin", [1, 0, 2, 0, 3]);
        t.WriteBase("type", "file\n");
        t.WriteBase("café.txt", "é\n");
        t.WriteBase("with space.txt", "s\n");
        File.CreateSymbolicLink(t.BasePath("lnk"), "src");
        var store = t.Create();
        using var fs = store.OpenFileSystem();
        fs.WriteAllText("src/main.c", fs.ReadAllText("src/main.c").Replace("line 7\n", "line seven\n").Replace("line 40\n", ""));
        fs.WriteAllText("src/big.txt", string.Concat(Enumerable.Range(1, 400).Select(i => i % 3 == 0 ? $"ROW {i}\n" : $"row {i}\n")) + "tail");
        fs.Delete("gone.txt");
        fs.Move("moved.txt", "here.txt");
        fs.CreateDirectory("deep/other");
        fs.Move("deep/dir/moved2.txt", "deep/other/moved2.txt");
        fs.SetMode("run.sh", 0x1ED);
        fs.WriteAllBytes("pic.bin", [1, 0, 2, 0, 3, 4, 5, 0]);
        fs.WriteAllBytes("new.bin", [0, 0, 7]);
        fs.Delete("type");
        fs.CreateSymbolicLink("type", "run.sh");
        fs.WriteAllText("café.txt", "é!\n");
        fs.WriteAllText("with space.txt", "s!\n");
        fs.WriteAllText("new empty", "");
        fs.Delete("lnk");
        fs.CreateSymbolicLink("lnk", "src/main.c");
        return (t, store);
    }

    [Fact]
    public void Name_status_is_what_git_prints()
    {
        var (t, store) = Sample();
        using (t)
        using (store)
        {
            string repo = RepoWithBranchStaged(t, store);
            string expected = Git.Ok(repo, "diff", "--cached", "--name-status", "-M100%");
            string actual = string.Concat(GitFormat.NameStatus(store.Diff("base", "main")).Select(l => l + "\n"));
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void Stat_is_what_git_prints()
    {
        var (t, store) = Sample();
        using (t)
        using (store)
        {
            string repo = RepoWithBranchStaged(t, store);
            string expected = Git.Ok(repo, "diff", "--cached", "--stat=80", "-M100%");
            string actual = string.Concat(GitFormat.Stat(store.DiffStat("base", "main")).Select(l => l + "\n"));
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void Patch_headers_are_what_git_prints()
    {
        var (t, store) = Sample();
        using (t)
        using (store)
        {
            string repo = RepoWithBranchStaged(t, store);
            string expected = Headers(Git.Ok(repo, "diff", "--cached", "--full-index", "--binary", "-M100%"));
            var ms = new MemoryStream();
            store.WritePatch("base", "main", ms);
            string actual = Headers(Encoding.UTF8.GetString(ms.ToArray()));
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void Text_hunks_match_git_where_the_diff_is_unambiguous()
    {
        var (t, store) = Sample();
        using (t)
        using (store)
        {
            string repo = RepoWithBranchStaged(t, store);
            string expected = Git.Ok(repo, "diff", "--cached", "--full-index", "-M100%", "--", "src/main.c", "with space.txt", "lnk");
            var ms = new MemoryStream();
            store.WritePatch("base", "main", ms, new PatchOptions { BinaryPatches = false });
            string all = Encoding.UTF8.GetString(ms.ToArray());
            string actual = string.Concat(Sections(all).Where(s => s.StartsWith("diff --git a/src/main.c ") || s.StartsWith("diff --git a/with space.txt ") || s.StartsWith("diff --git a/lnk ")));
            Assert.Equal(expected, actual);
            Assert.Contains("Binary files a/pic.bin and b/pic.bin differ\n", all);
            Assert.Contains("Binary files /dev/null and b/new.bin differ\n", all);
        }
    }

    private static IEnumerable<string> Sections(string patch)
    {
        var parts = patch.Split("diff --git ");
        return parts.Skip(1).Select(p => "diff --git " + p);
    }

    /// <summary>The lines that say what a section is (not hunks, not binary data, whose encoding git may choose differently).</summary>
    private static string Headers(string patch)
    {
        string[] keep = ["diff --git", "new file mode", "deleted file mode", "old mode", "new mode", "similarity index", "rename from", "rename to", "index ", "--- ", "+++ ", "GIT binary patch"];
        return string.Join("\n", patch.Split('\n').Where(l => keep.Any(l.StartsWith)));
    }

    [Fact]
    public void Paths_are_quoted_as_git_quotes_them()
    {
        Assert.Equal("plain/name.txt", GitFormat.QuotePath("plain/name.txt"u8));
        Assert.Equal("with space", GitFormat.QuotePath("with space"u8));
        Assert.Equal("\"q\\\"uote\"", GitFormat.QuotePath("q\"uote"u8));
        Assert.Equal("\"caf\\303\\251\"", GitFormat.QuotePath("café"u8));
        Assert.Equal("\"a\\nb\\tc\\\\d\\001\\177\"", GitFormat.QuotePath("a\nb\tc\\d\u0001\u007f"u8));
        Assert.Equal("\"\\a\\b\\v\\f\\r\"", GitFormat.QuotePath("\a\b\v\f\r"u8));
    }

    [Fact]
    public void Stat_names_renames_like_git()
    {
        Assert.Equal("a => b", GitFormat.RenameName("a"u8.ToArray(), "b"u8.ToArray()));
        Assert.Equal("dir/{a => b}", GitFormat.RenameName("dir/a"u8.ToArray(), "dir/b"u8.ToArray()));
        Assert.Equal("{old => new}/f.txt", GitFormat.RenameName("old/f.txt"u8.ToArray(), "new/f.txt"u8.ToArray()));
        Assert.Equal("src/{a => b}/x.c", GitFormat.RenameName("src/a/x.c"u8.ToArray(), "src/b/x.c"u8.ToArray()));
        Assert.Equal("f => sub/f", GitFormat.RenameName("f"u8.ToArray(), "sub/f"u8.ToArray()));
        Assert.Equal("{a => b}/same/f", GitFormat.RenameName("a/same/f"u8.ToArray(), "b/same/f"u8.ToArray()));
    }
}
