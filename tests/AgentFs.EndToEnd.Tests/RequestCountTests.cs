using AgentFs.Fuse;
using AgentFs.Fuse.Protocol;

namespace AgentFs.EndToEnd.Tests;

/// <summary>What the kernel asks of the daemon, counted (AgentMountOptions.CollectStats): round trips the
/// mount avoids must stay avoided.</summary>
public class RequestCountTests
{
    [Fact]
    public void CloseSendsNoFlushAndWritesAskNoCapabilityEachTime()
    {
        using var m = new MountedStore();
        m.Unmount();
        using var mount = AgentMount.Mount(m.StorePath, m.MountPoint, new AgentMountOptions { CollectStats = true, StatsFile = Path.Combine(m.Root, "stats.txt") });
        var stats = mount.Session.Stats!;
        // 20 opens and closes of one file, then 64 writes of 64 KiB that each reach the daemon (O_DIRECT is
        // not needed: fsync after each write sends it).
        m.Sh("echo x > f && for i in $(seq 1 20); do cat f > /dev/null; done");
        m.Sh("for i in $(seq 0 63); do dd if=/dev/zero of=big bs=64k count=1 seek=$i conv=notrunc,fsync status=none; done");
        Assert.True(stats.Count(FuseOpcode.Open) >= 20, stats.Format());
        Assert.True(stats.Count(FuseOpcode.Flush) <= 1, stats.Format()); // ENOSYS once, then the kernel stops asking
        Assert.True(stats.Count(FuseOpcode.Write) >= 64, stats.Format());
        Assert.True(stats.Count(FuseOpcode.GetXattr) <= 4, stats.Format()); // not one per write (FUSE_HANDLE_KILLPRIV_V2)
        Assert.Equal(new string('\0', 64 * 65536), File.ReadAllText(m.P("big")));
        mount.ReportStats(reset: true);
        Assert.Contains("Open", File.ReadAllText(Path.Combine(m.Root, "stats.txt")));
        Assert.Equal(0, stats.Count(FuseOpcode.Open));
    }
}
