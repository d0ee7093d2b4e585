namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// A rollback while a process holds a file open. With the writeback cache the kernel keeps its own size of a
/// file and never takes ours while the inode lives (an open descriptor keeps it alive): a file held open for
/// appending across a rollback to a shorter state got the next append at the old size, NUL bytes in between,
/// in the kernel's view and in the store. After a rollback every inode whose state changed answers lookups
/// with a new generation (the kernel then drops its copy for a fresh one), and the descriptors opened before
/// it get ESTALE instead of writing at offsets of a state that no longer exists.
/// </summary>
public class RollbackOpenFileTests
{
    private static readonly string Agentfs = MountedStore.AgentfsCommand;

    [Fact]
    public void A_file_held_open_for_appending_across_a_rollback_never_gets_zeros()
    {
        using var m = new MountedStore();
        string cp = m.Sh($"""
            exec 3>>log.txt
            echo one >&3
            cp=$({Agentfs} checkpoint {m.StorePath} -m one | tail -1)
            echo two-and-more-than-before >&3
            sync
            {Agentfs} rollback {m.StorePath} $cp >/dev/null
            echo three >&3 2>/dev/null
            exec 3>&- 2>/dev/null
            echo $cp
            """).Trim();
        Assert.Matches("^[0-9]+$", cp);
        // A new open sees the state rolled back to (the old descriptor's last append is refused, not merged in
        // at an offset of the state that is gone).
        string shown = m.Sh("cat log.txt");
        Assert.DoesNotContain('\0', shown);
        Assert.Equal("one\n", shown);
        Assert.Equal(4, new FileInfo(m.P("log.txt")).Length);
        m.Unmount();
        m.Mount();
        Assert.Equal("one\n", File.ReadAllText(m.P("log.txt")));
    }
}
