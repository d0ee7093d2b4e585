namespace AgentFs.Tests.Versions;

/// <summary>
/// Apply is often run by someone with more rights than the agent (root, the project's owner): it must not turn
/// what the agent could set on its own files into that user's privileges, and when it stops midway it must say
/// exactly what it changed.
/// </summary>
public class ApplyTrustTests
{
    private static uint ModeOf(string path) => (uint)File.GetUnixFileMode(path);

    private static (TempStore T, AgentStore Store, string Target) SetIdChanges()
    {
        var t = new TempStore();
        t.WriteBase("was-755", "x\n");
        File.SetUnixFileMode(t.BasePath("was-755"), (UnixFileMode)0x1ED);
        Directory.CreateDirectory(t.BasePath("shared"));
        File.SetUnixFileMode(t.BasePath("shared"), (UnixFileMode)0x5FD); // 2775: a group directory the user made
        string baseHash = TempStore.TreeHash(t.BaseDir);
        var store = t.Create();
        using (var fs = store.OpenFileSystem())
        {
            fs.WriteAllText("tool", "#!/bin/sh\nid\n");
            fs.SetMode("tool", 0x9ED);                // 4755: a new setuid file
            fs.WriteAllText("gtool", "g\n");
            fs.SetMode("gtool", 0x5ED);               // 2755: a new setgid file
            fs.SetMode("was-755", 0x9ED);             // 4755 on a file that had no such bit: a mode-only change
            fs.CreateDirectory("drop");
            fs.SetMode("drop", 0x7FF);                // 3777: a new setgid + sticky directory
            fs.SetMode("shared", 0x5ED);              // 2775 -> 2755: the setgid bit was already there
        }
        Assert.Equal(baseHash, TempStore.TreeHash(t.BaseDir));
        string target = Path.Combine(t.Root, "target");
        Directory.CreateDirectory(target);
        Trees.Copy(t.BaseDir, target);
        return (t, store, target);
    }

    [Fact]
    public void Apply_never_creates_setid_or_sticky_bits_and_reports_each_one_it_left_out()
    {
        var (t, store, target) = SetIdChanges();
        using (t)
        using (store)
        {
            var dry = store.PlanApply("main", target);
            var r = store.Apply("main", target);
            Assert.Equal(0x1EDu, ModeOf(Path.Combine(target, "tool")));
            Assert.Equal(0x1EDu, ModeOf(Path.Combine(target, "gtool")));
            Assert.Equal(0x1EDu, ModeOf(Path.Combine(target, "was-755")));
            Assert.Equal(0x1FFu, ModeOf(Path.Combine(target, "drop")));
            Assert.Equal(0x5EDu, ModeOf(Path.Combine(target, "shared"))); // kept: apply did not create it
            Assert.Equal(["drop 3777 -> 0777", "gtool 2755 -> 0755", "tool 4755 -> 0755", "was-755 4755 -> 0755"],
                r.DroppedBits.Select(d => d.ToString()));
            Assert.Equal(r.DroppedBits.Select(d => d.ToString()), dry.DroppedBits.Select(d => d.ToString()));
            // The steps say what is written, not what the branch asked for.
            Assert.Equal(0x1EDu, r.Actions.Single(a => a.Path == "tool" && a.Kind == ApplyActionKind.WriteFile).Mode);
            // Owners are never carried: what apply makes belongs to whoever runs it.
            Assert.Equal(Native.LibC.geteuid(), Stat(Path.Combine(target, "tool")).Uid);
        }
    }

    [Fact]
    public void Keep_special_bits_writes_them()
    {
        var (t, store, target) = SetIdChanges();
        using (t)
        using (store)
        {
            var r = store.Apply("main", target, new ApplyOptions { KeepSpecialBits = true });
            Assert.Empty(r.DroppedBits);
            Assert.Equal(0x9EDu, ModeOf(Path.Combine(target, "tool")));
            Assert.Equal(0x5EDu, ModeOf(Path.Combine(target, "gtool")));
            Assert.Equal(0x9EDu, ModeOf(Path.Combine(target, "was-755")));
            Assert.Equal(0x7FFu, ModeOf(Path.Combine(target, "drop")));
            Assert.Equal(0x5EDu, ModeOf(Path.Combine(target, "shared")));
        }
    }

    private static Native.BaseStat Stat(string path)
    {
        using var d = new Native.BaseDirectory(Path.GetDirectoryName(path)!);
        Assert.True(d.TryStat(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(path)), out var st));
        return st;
    }

    /// <summary>Calls back synchronously, so a test can change the target between two steps of an apply.</summary>
    private sealed class StepHook(Action<VersionProgress> onStep) : IProgress<VersionProgress>
    {
        public void Report(VersionProgress value) => onStep(value);
    }

    [Fact]
    public void An_apply_stopped_midway_says_exactly_what_it_wrote_and_what_not()
    {
        using var t = new TempStore();
        t.WriteBase("a.txt", "a\n");
        t.WriteBase("gone.txt", "gone\n");
        t.WriteBase("sub/b.txt", "b\n");
        t.WriteBase("sub/c.txt", "c\n");
        using var store = t.Create();
        using (var fs = store.OpenFileSystem())
        {
            fs.WriteAllText("a.txt", "new a\n");
            fs.Delete("gone.txt");
            fs.WriteAllText("sub/b.txt", "new b\n");
            fs.WriteAllText("sub/c.txt", "new c\n");
        }
        string target = Path.Combine(t.Root, "target");
        Directory.CreateDirectory(target);
        Trees.Copy(t.BaseDir, target);
        string outside = Path.Combine(t.Root, "outside");
        // Once a.txt is in place, someone swaps target/sub for a symlink: apply must stop there, not follow it.
        var hook = new StepHook(p =>
        {
            if (p.Phase == "write" && p.Path == "sub/b.txt")
            {
                Directory.Move(Path.Combine(target, "sub"), outside);
                File.CreateSymbolicLink(Path.Combine(target, "sub"), outside);
            }
        });
        var e = Assert.Throws<AgentFsException>(() => store.Apply("main", target, progress: hook));
        Assert.Equal("new a\n", File.ReadAllText(Path.Combine(target, "a.txt")));
        Assert.False(File.Exists(Path.Combine(target, "gone.txt")));
        Assert.Equal("b\n", File.ReadAllText(Path.Combine(outside, "b.txt")));
        Assert.DoesNotContain("nothing past it was written", e.Message);
        Assert.Contains($"apply of main to {target} stopped: sub in target {target} is not a directory", e.Message);
        Assert.Contains("already done in the target (2 of 4): deleted gone.txt, wrote a.txt; not done (2): write sub/b.txt, write sub/c.txt", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
