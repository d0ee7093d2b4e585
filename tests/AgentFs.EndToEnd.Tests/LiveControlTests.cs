namespace AgentFs.EndToEnd.Tests;

/// <summary>checkpoint, rollback, branch and log from another process (the real ./agentfs) while a branch is mounted.</summary>
public class LiveControlTests
{
    private static readonly string Agentfs = MountedStore.AgentfsCommand;

    [Fact]
    public void RollbackFromAnotherProcessShowsTheCheckpointAtOnce()
    {
        using var m = new MountedStore(b => File.WriteAllText(Path.Combine(b, "a.txt"), "base\n"));
        File.WriteAllText(m.P("f.txt"), "v1\n");
        string cp = m.Sh($"{Agentfs} checkpoint {m.StorePath} -m first").Trim().Split('\n')[^1];
        Assert.Equal("1", cp);
        File.WriteAllText(m.P("f.txt"), "v2 longer\n");
        File.WriteAllText(m.P("g.txt"), "new\n");
        File.Delete(m.P("a.txt"));
        Assert.Equal("v2 longer\n", m.Sh("cat f.txt")); // cached by the kernel before the rollback

        using (var held = File.OpenRead(m.P("g.txt")))
        {
            m.Sh($"{Agentfs} rollback {m.StorePath} {cp}");
            // The mount shows the checkpoint at once: names, attributes and pages were invalidated.
            Assert.Equal("v1\n", File.ReadAllText(m.P("f.txt")));
            Assert.Equal("v1\n", m.Sh("cat f.txt"));
            Assert.Equal("base\n", m.Sh("cat a.txt"));
            Assert.False(File.Exists(m.P("g.txt")));
            Assert.Equal("a.txt\nf.txt\n", m.Sh("ls"));
            // A file held open whose inode does not exist in the checkpoint: reads fail (ESTALE).
            var buf = new byte[16];
            Assert.ThrowsAny<IOException>(() => held.Read(buf, 0, buf.Length));
        }
        // The mount keeps working after the rollback, and the log and a branch from the head work live.
        File.WriteAllText(m.P("h.txt"), "after\n");
        m.Sh($"{Agentfs} branch {m.StorePath} side --from main");
        Assert.Contains("first", m.Sh($"{Agentfs} log {m.StorePath}"));
        Assert.Contains(m.MountPoint, m.Sh($"{Agentfs} status"));
        m.Unmount();
        m.Mount("side");
        Assert.Equal("after\n", File.ReadAllText(m.P("h.txt")));
        Assert.Equal("v1\n", File.ReadAllText(m.P("f.txt")));
    }

    [Fact]
    public void DiffAndPatchFromAnotherProcessSeeEveryWriteOfTheMountAtOnce()
    {
        using var m = new MountedStore(b => File.WriteAllText(Path.Combine(b, "a.txt"), "one\ntwo\n"));
        m.Unmount();
        m.Mount(commitInterval: TimeSpan.FromHours(1)); // nothing is committed unless someone asks
        File.WriteAllText(m.P("a.txt"), "one\nTWO\n");
        File.WriteAllText(m.P("new.txt"), "new\n");
        // No wait for the group commit: diff asks the mount to commit first (through its control socket).
        Assert.Equal("M\ta.txt\nA\tnew.txt\n", m.Sh($"{Agentfs} diff {m.StorePath} --name-status"));
        string patch = Path.Combine(m.Root, "p.patch");
        m.Sh($"{Agentfs} patch {m.StorePath} -o {patch}");
        string copy = Path.Combine(m.Root, "copy");
        m.Sh($"cp -a {m.BaseDir} {copy} && cd {copy} && git apply {patch} && cmp a.txt {m.P("a.txt")} && cmp new.txt {m.P("new.txt")}");
    }

    [Fact]
    public void ReadersInAnotherProcessSeeCommittedWritesOfTheMount()
    {
        using var m = new MountedStore();
        File.WriteAllText(m.P("x.txt"), "hello\n");
        // fs cat reads what the mount committed; CommitPending (checkpoint does it too) makes it immediate.
        m.Sh($"{Agentfs} checkpoint {m.StorePath}");
        Assert.Equal("hello\n", m.Sh($"{Agentfs} fs {m.StorePath} cat x.txt"));
    }
}
