using System.Text;

namespace AgentFs.Tests.Versions;

/// <summary>Patches made by the store, applied by the real git on a copy of the base, give the branch's tree.</summary>
public class PatchGitTests
{
    /// <summary>Makes the patch base..main, applies it with git apply --check then git apply on a copy of the
    /// base, and compares the result with main's tree (contents, x bits, symlinks).</summary>
    internal static string ApplyWithGit(TempStore t, AgentStore store, string from = "base", string to = "main")
    {
        string patchFile = Path.Combine(t.Root, "change.patch");
        using (var f = File.Create(patchFile)) store.WritePatch(from, to, f);
        string copy = Path.Combine(t.Root, "copy-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(copy);
        if (from == "base") Trees.Copy(t.BaseDir, copy);
        else
        {
            using var fromFs = store.OpenState(from);
            Export(fromFs, copy);
        }
        Git.Ok(copy, "init", "-q");
        Git.Ok(copy, "apply", "--check", patchFile);
        Git.Ok(copy, "apply", patchFile);
        using var fs = store.OpenState(to);
        Trees.AssertSame(Trees.OfState(fs, gitModes: true), Trees.OfDirectory(copy, gitModes: true));
        return File.ReadAllText(patchFile);
    }

    /// <summary>Writes a state's tree to a directory (files with their modes, symlinks, directories).</summary>
    internal static void Export(AgentFileSystem fs, string dir, string rel = "")
    {
        foreach (var e in fs.Enumerate("/" + rel))
        {
            string r = rel.Length == 0 ? e.NameString : rel + "/" + e.NameString;
            string target = Path.Combine(dir, r);
            var a = fs.GetAttributes("/" + r);
            if (a.IsDirectory)
            {
                Directory.CreateDirectory(target);
                Export(fs, dir, r);
                File.SetUnixFileMode(target, (UnixFileMode)(a.Mode & 0xFFF));
            }
            else if (a.IsSymlink) File.CreateSymbolicLink(target, fs.ReadSymbolicLink("/" + r));
            else if (a.IsRegular)
            {
                File.WriteAllBytes(target, fs.ReadAllBytes("/" + r));
                File.SetUnixFileMode(target, (UnixFileMode)(a.Mode & 0xFFF));
            }
        }
    }

    private static string Lines(int from, int to, string prefix = "line") =>
        string.Concat(Enumerable.Range(from, to - from + 1).Select(i => $"{prefix} {i}\n"));

    [Fact]
    public void Hand_made_change_set_is_reproduced_by_git_apply()
    {
        using var t = new TempStore();
        t.WriteBase("src/main.c", Lines(1, 40));
        t.WriteBase("src/util.c", Lines(1, 10, "util"));
        t.WriteBase("README.md", "# readme\n");
        t.WriteBase("noeol.txt", "one\ntwo");
        t.WriteBase("gone.txt", "to be deleted\n");
        t.WriteBase("moved.txt", "moved content\nmore\n");
        t.WriteBase("run.sh", "#!/bin/sh\necho hi\n");
        t.WriteBase("data.bin", Enumerable.Range(0, 5000).Select(i => (byte)(i % 7 == 0 ? 0 : i)).ToArray());
        t.WriteBase("empty.txt", "");
        t.WriteBase("a b/with space.txt", "spaced\n");
        t.WriteBase("q\"uote.txt", "quoted\n");
        t.WriteBase("café.txt", "unicode\n");
        t.WriteBase("new\nline.txt", "newline name\n");
        t.WriteBase("tab\there.txt", "tab\n");
        t.WriteBase("back\\slash.txt", "back\n");
        t.WriteBase("tochange/file", "becomes a dir\n");
        File.CreateSymbolicLink(t.BasePath("link"), "README.md");
        File.CreateSymbolicLink(t.BasePath("link2file"), "src");
        t.WriteBase("file2link", "file\n");
        using var store = t.Create();
        using (var fs = store.OpenFileSystem())
        {
            var text = fs.ReadAllText("src/main.c").Replace("line 5\n", "line five\n").Replace("line 30\n", "").Replace("line 40\n", "line 40\nline 41\n");
            fs.WriteAllText("src/main.c", text);
            fs.WriteAllText("noeol.txt", "one\ntwo\nthree");
            fs.WriteAllText("README.md", "# readme\n\nmore text\n");
            fs.Delete("gone.txt");
            fs.Move("moved.txt", "dir/moved-here.txt".Replace("dir/", ""));
            fs.SetMode("run.sh", 0x1ED);
            var bin = fs.ReadAllBytes("data.bin");
            bin[100] ^= 0xFF;
            fs.WriteAllBytes("data.bin", bin);
            fs.WriteAllBytes("new.bin", new byte[] { 0, 1, 2, 3, 0, 255 });
            fs.WriteAllText("empty.txt", "not empty any more\n");
            fs.WriteAllText("new-empty.txt", "");
            fs.WriteAllText("a b/with space.txt", "spaced out\n");
            fs.WriteAllText("a b/new one.txt", "new\n");
            fs.WriteAllText("q\"uote.txt", "quoted!\n");
            fs.WriteAllText("café.txt", "unicode!\n");
            fs.WriteAllText("new\nline.txt", "newline name!\n");
            fs.WriteAllText("tab\there.txt", "tab!\n");
            fs.WriteAllText("back\\slash.txt", "back!\n");
            fs.Delete("tochange", recursive: true);
            fs.CreateDirectory("tochange/file");
            fs.WriteAllText("tochange/file/inside", "now a dir\n");
            fs.Delete("link");
            fs.CreateSymbolicLink("link", "src/main.c");
            fs.Delete("link2file");
            fs.WriteAllText("link2file", "was a link\n");
            fs.Delete("file2link");
            fs.CreateSymbolicLink("file2link", "README.md");
            fs.CreateDirectory("deep/er/still");
            fs.WriteAllText("deep/er/still/x.txt", "deep\n");
        }
        string patch = ApplyWithGit(t, store);
        Assert.Contains("GIT binary patch", patch);
        Assert.Contains("rename from moved.txt", patch);
        Assert.Contains("\\ No newline at end of file", patch);
        Assert.Contains("diff --git \"a/caf\\303\\251.txt\" \"b/caf\\303\\251.txt\"", patch);
        Assert.Contains("diff --git \"a/new\\nline.txt\" \"b/new\\nline.txt\"", patch);
        Assert.Contains("--- a/a b/with space.txt\t\n", patch);
        Assert.Contains("old mode 100644\nnew mode 100755\n", patch);
        Assert.Contains("new file mode 120000", patch);
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    [InlineData(9)] [InlineData(10)] [InlineData(11)] [InlineData(12)] [InlineData(13)] [InlineData(14)] [InlineData(15)] [InlineData(16)]
    public void Random_change_sets_are_reproduced_by_git_apply(int seed)
    {
        var r = new Random(seed);
        using var t = new TempStore();
        RandomChanges.MakeBase(t.BaseDir, r);
        using var store = t.Create(new StoreOptions { ChunkSize = 4096 });
        using (var fs = store.OpenFileSystem()) RandomChanges.Mutate(fs, r, 25);
        ApplyWithGit(t, store);
    }

    [Theory]
    [InlineData(21)] [InlineData(22)] [InlineData(23)] [InlineData(24)]
    public void Patches_between_checkpoints_and_branches_are_reproduced_by_git_apply(int seed)
    {
        var r = new Random(seed);
        using var t = new TempStore();
        RandomChanges.MakeBase(t.BaseDir, r);
        using var store = t.Create(new StoreOptions { ChunkSize = 4096 });
        long cp1, cp2;
        using (var fs = store.OpenFileSystem())
        {
            RandomChanges.Mutate(fs, r, 10);
            cp1 = fs.Checkpoint("one").Id;
            RandomChanges.Mutate(fs, r, 10);
            cp2 = fs.Checkpoint("two").Id;
        }
        store.CreateBranch("other", cp1.ToString());
        using (var fs = store.OpenFileSystem("other")) RandomChanges.Mutate(fs, r, 10);
        ApplyWithGit(t, store, cp1.ToString(), cp2.ToString());
        ApplyWithGit(t, store, cp2.ToString(), cp1.ToString());
        ApplyWithGit(t, store, "main", "other");
        ApplyWithGit(t, store, "other", "base");
    }
}
