using System.Text;

namespace AgentFs.Tests.Versions;

public class ApplyTests
{
    private static TempStore SampleBase()
    {
        var t = new TempStore();
        t.WriteBase("src/main.c", "int main(void) {\n    return 0;\n}\n");
        t.WriteBase("src/util.c", "util\n");
        t.WriteBase("README.md", "# readme\n");
        t.WriteBase("old/a.txt", "a\n");
        t.WriteBase("old/sub/b.txt", "b\n");
        t.WriteBase("run.sh", "#!/bin/sh\n");
        t.WriteBase("keep.bin", [0, 1, 2, 3]);
        File.CreateSymbolicLink(t.BasePath("link"), "README.md");
        Directory.CreateDirectory(t.BasePath("emptydir"));
        return t;
    }

    private static void SampleChanges(AgentStore store)
    {
        using var fs = store.OpenFileSystem();
        fs.WriteAllText("src/main.c", "int main(void) {\n    return 42;\n}\n");
        fs.Delete("src/util.c");
        fs.WriteAllText("src/new file.c", "new\n");
        fs.Move("README.md", "docs.md");
        fs.Delete("old", recursive: true);
        fs.SetMode("run.sh", 0x1ED);
        fs.WriteAllBytes("keep.bin", [0, 9, 9, 9, 0]);
        fs.Delete("link");
        fs.CreateSymbolicLink("link", "docs.md");
        fs.CreateDirectory("made/deeper");
        fs.SetMode("made", 0x1C0);
        fs.WriteAllText("made/deeper/x.txt", "x\n");
        fs.SetMode("emptydir", 0x1FF);
        fs.CreateSymbolicLink("newlink", "../outside");
        fs.WriteAllText("é n\"q\n.txt", "odd name\n");
    }

    private static string CopyOfBase(TempStore t, string name = "target")
    {
        string dir = Path.Combine(t.Root, name);
        Directory.CreateDirectory(dir);
        Trees.Copy(t.BaseDir, dir);
        return dir;
    }

    private static void AssertTargetIsBranch(AgentStore store, string target, string reference = "main")
    {
        using var fs = store.OpenState(reference);
        var expected = Trees.OfState(fs);
        var actual = Trees.OfDirectory(target);
        actual.Remove(""); // the root itself is not in either listing
        Trees.AssertSame(expected, actual);
        Assert.Empty(Directory.EnumerateFileSystemEntries(target, ".agentfs-apply-*"));
    }

    [Fact]
    public void Apply_writes_the_branch_into_a_copy_of_the_base_byte_for_byte()
    {
        using var t = SampleBase();
        using var store = t.Create();
        SampleChanges(store);
        string target = CopyOfBase(t);
        var result = store.Apply("main", target);
        Assert.True(result.Applied);
        Assert.Empty(result.Conflicts);
        AssertTargetIsBranch(store, target);
        // Nothing left to do: a second plan finds the target already changed, so every path conflicts.
        Assert.NotEmpty(store.PlanApply("main", target).Conflicts);
    }

    [Fact]
    public void Apply_into_the_base_directory_itself_works_and_then_the_store_reports_the_drift()
    {
        using var t = SampleBase();
        using var store = t.Create();
        SampleChanges(store);
        string before = Trees.Fingerprint(t.BaseDir);
        var dry = store.Apply("main", t.BaseDir, dryRun: true);
        Assert.False(dry.Applied);
        Assert.Equal(before, Trees.Fingerprint(t.BaseDir));
        store.Apply("main", t.BaseDir);
        AssertTargetIsBranchAfterApplyIntoBase(t);
        // The base files the branch had copied up have changed under it now: the store says so.
        var e = Assert.Throws<AgentFsException>(() => store.Diff("base", "main"));
        Assert.Equal(Errno.EIO, e.Errno);
        Assert.Contains("src/main.c (", e.Message);
    }

    private static void AssertTargetIsBranchAfterApplyIntoBase(TempStore t)
    {
        // The base now holds what the branch held; a fresh store over it shows exactly that.
        var files = Trees.OfDirectory(t.BaseDir);
        Assert.Equal("l -> docs.md", files["link"]);
        Assert.False(files.ContainsKey("old"));
        Assert.Equal("d 700", files["made"]);
        Assert.Equal("f 755 " + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData("#!/bin/sh\n"u8.ToArray())), files["run.sh"]);
        Assert.Equal("int main(void) {\n    return 42;\n}\n", File.ReadAllText(t.BasePath("src/main.c")));
    }

    [Fact]
    public void Apply_of_a_checkpoint_applies_that_state()
    {
        using var t = SampleBase();
        using var store = t.Create();
        long cp;
        using (var fs = store.OpenFileSystem())
        {
            fs.WriteAllText("first.txt", "1\n");
            cp = fs.Checkpoint().Id;
            fs.WriteAllText("second.txt", "2\n");
        }
        string target = CopyOfBase(t);
        store.Apply(cp.ToString(), target);
        AssertTargetIsBranch(store, target, cp.ToString());
        Assert.False(File.Exists(Path.Combine(target, "second.txt")));
    }

    [Fact]
    public void Conflicts_are_all_listed_and_nothing_is_written()
    {
        using var t = SampleBase();
        using var store = t.Create();
        SampleChanges(store);
        string target = CopyOfBase(t);
        File.WriteAllText(Path.Combine(target, "src/main.c"), "someone else's edit\n");       // modified in target
        File.Delete(Path.Combine(target, "src/util.c"));                                       // already gone
        File.WriteAllText(Path.Combine(target, "src/new file.c"), "also new\n");               // added in both
        File.SetUnixFileMode(Path.Combine(target, "run.sh"), (UnixFileMode)Convert.ToInt32("600", 8)); // mode differs
        File.WriteAllText(Path.Combine(target, "old/sub/untracked.log"), "log\n");             // in a deleted dir
        File.Delete(Path.Combine(target, "link"));
        File.CreateSymbolicLink(Path.Combine(target, "link"), "elsewhere");                     // link retargeted
        string before = Trees.Fingerprint(target);

        var plan = store.PlanApply("main", target);
        var paths = plan.Conflicts.Select(c => c.Path).ToList();
        Assert.Equal(["link", "old/sub/untracked.log", "run.sh", "src/main.c", "src/new file.c", "src/util.c"], paths);

        var e = Assert.Throws<AgentFsException>(() => store.Apply("main", target));
        Assert.Equal(Errno.ESTALE, e.Errno);
        Assert.DoesNotContain('\n', e.Message);
        foreach (var p in paths) Assert.Contains(p + ":", e.Message);
        Assert.Contains("6 conflicts", e.Message);
        Assert.Contains("nothing was written", e.Message);
        Assert.Equal(before, Trees.Fingerprint(target));
        Assert.Throws<AgentFsException>(() => store.Apply("main", target, dryRun: true));
        Assert.Equal(before, Trees.Fingerprint(target));
    }

    [Fact]
    public void A_symlink_in_the_target_is_never_followed_out_of_it()
    {
        using var t = SampleBase();
        using var store = t.Create();
        SampleChanges(store);
        string outside = Path.Combine(t.Root, "outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "main.c"), "int main(void) {\n    return 0;\n}\n"); // looks like the base's file
        string target = CopyOfBase(t);
        // src is a directory in the base; in the target it is a symlink to a directory outside.
        Directory.Delete(Path.Combine(target, "src"), true);
        File.CreateSymbolicLink(Path.Combine(target, "src"), outside);
        // made/ is new in the branch; in the target a symlink with that name points outside.
        File.CreateSymbolicLink(Path.Combine(target, "made"), outside);
        string outsideBefore = Trees.Fingerprint(outside), targetBefore = Trees.Fingerprint(target);

        var e = Assert.Throws<AgentFsException>(() => store.Apply("main", target));
        Assert.Contains("src: is a symlink in the target", e.Message);
        Assert.Contains("made: already exists in the target (symlink)", e.Message);
        Assert.Equal(outsideBefore, Trees.Fingerprint(outside));
        Assert.Equal(targetBefore, Trees.Fingerprint(target));
    }

    [Fact]
    public void Dry_run_lists_the_steps_and_writes_nothing()
    {
        using var t = SampleBase();
        using var store = t.Create();
        SampleChanges(store);
        string target = CopyOfBase(t);
        string before = Trees.Fingerprint(target);
        var r = store.Apply("main", target, dryRun: true);
        Assert.False(r.Applied);
        Assert.True(r.DryRun);
        Assert.Equal(before, Trees.Fingerprint(target));
        var steps = r.Actions.Select(a => $"{a.Kind} {a.Path}").ToList();
        Assert.Contains("Delete src/util.c", steps);
        Assert.Contains("RemoveDirectory old/sub", steps);
        Assert.Contains("CreateDirectory made/deeper", steps);
        Assert.Contains("WriteFile src/main.c", steps);
        Assert.Contains("WriteSymlink link", steps);
        Assert.Contains("SetMode run.sh", steps);
        Assert.Contains("SetMode emptydir", steps);
        // Deletions come before creations, and directories are removed deepest first.
        Assert.True(steps.IndexOf("RemoveDirectory old/sub") < steps.IndexOf("RemoveDirectory old"));
        Assert.True(steps.IndexOf("Delete src/util.c") < steps.IndexOf("WriteFile src/main.c"));
    }

    [Fact]
    public void Apply_refuses_when_the_base_drifted_under_a_copied_up_file()
    {
        using var t = SampleBase();
        t.WriteBase("big.bin", new byte[100_000]);
        using var store = t.Create(new StoreOptions { ChunkSize = 4096 });
        using (var fs = store.OpenFileSystem()) fs.WriteAt("big.bin", 10, "XY"u8);
        File.WriteAllBytes(t.BasePath("big.bin"), new byte[100_001]);
        string target = CopyOfBase(t);
        string before = Trees.Fingerprint(target);
        var e = Assert.Throws<AgentFsException>(() => store.Apply("main", target));
        Assert.Equal(Errno.EIO, e.Errno);
        Assert.Contains("big.bin (changed in the base)", e.Message);
        Assert.Contains("refusing to apply", e.Message);
        Assert.Equal(before, Trees.Fingerprint(target));
    }

    [Fact]
    public void Random_branches_apply_exactly()
    {
        for (int seed = 100; seed < 110; seed++)
        {
            var r = new Random(seed);
            using var t = new TempStore();
            RandomChanges.MakeBase(t.BaseDir, r);
            using var store = t.Create(new StoreOptions { ChunkSize = 4096 });
            using (var fs = store.OpenFileSystem()) RandomChanges.Mutate(fs, r, 25);
            string target = CopyOfBase(t);
            store.Apply("main", target);
            AssertTargetIsBranch(store, target);
        }
    }

    [Fact]
    public void Unknown_refs_and_missing_targets_are_clear_errors()
    {
        using var t = SampleBase();
        using var store = t.Create();
        var e = Assert.Throws<AgentFsException>(() => store.Apply("nope", t.Root));
        Assert.Contains("'nope' is not base, a checkpoint or a branch", e.Message);
        e = Assert.Throws<AgentFsException>(() => store.Apply("main", Path.Combine(t.Root, "missing")));
        Assert.Contains("target directory", e.Message);
        e = Assert.Throws<AgentFsException>(() => store.Apply("base", t.Root));
        Assert.Equal(Errno.EINVAL, e.Errno);
        e = Assert.Throws<AgentFsException>(() => store.Apply("99", t.Root));
        Assert.Contains("checkpoint 99 does not exist", e.Message);
    }

    [Fact]
    public void Special_files_are_left_out_and_hard_links_become_copies()
    {
        using var t = SampleBase();
        MakeFifo(t.BasePath("old/sub/fifo"));
        using var store = t.Create();
        using (var fs = store.OpenFileSystem())
        {
            fs.MakeNode("pipe", PosixMode.S_IFIFO | 0x1A4);
            fs.CreateHardLink("readme-link.md", "README.md");
            fs.Delete("old/sub/fifo");
        }
        string target = CopyOfBase(t);
        var r = store.Apply("main", target);
        Assert.Equal(["pipe"], r.Skipped.Select(c => c.Path));
        Assert.False(File.Exists(Path.Combine(target, "pipe")));
        Assert.False(Path.Exists(Path.Combine(target, "old/sub/fifo"))); // deleting a special file is an unlink
        Assert.Equal("# readme\n", File.ReadAllText(Path.Combine(target, "readme-link.md")));
        var ms = new MemoryStream();
        var summary = store.WritePatch("base", "main", ms);
        Assert.Equal(1, summary.Files);
        Assert.Equal(2, summary.LeftOut); // the new fifo, and the deleted one
        Assert.DoesNotContain("pipe", Encoding.UTF8.GetString(ms.ToArray()));
    }

    private static void MakeFifo(string path)
    {
        using var p = System.Diagnostics.Process.Start("mkfifo", [path])!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
