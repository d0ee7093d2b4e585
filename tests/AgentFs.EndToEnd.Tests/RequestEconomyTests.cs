using AgentFs.Fuse;
using AgentFs.Fuse.Protocol;

namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// The agent's tool loop on a warm mount, counted: upper bounds on the requests per operation that the default
/// mount sends (benchmarks/README.md, "Request economy"). A lever that is lost (write-through, zero-message opendir,
/// cached listings) shows here as more requests.
/// </summary>
public class RequestEconomyTests
{
    private static void FillBase(string dir)
    {
        Directory.CreateDirectory(Path.Combine(dir, "small"));
        for (int i = 0; i < 100; i++) File.WriteAllText(Path.Combine(dir, "small", $"f{i:000}.txt"), new string('x', 1000));
    }

    private const string ReadLoop = """
        import os, sys
        d = sys.argv[1]
        for n in sorted(os.listdir(d)):
            with open(os.path.join(d, n)) as f: f.read()
        """;

    [Fact]
    public void Reading_small_files_again_costs_open_ioctl_and_release_only()
    {
        using var m = new MountedStore(FillBase);
        m.Unmount();
        using var mount = AgentMount.Mount(m.StorePath, m.MountPoint, new AgentMountOptions { CollectStats = true });
        var stats = mount.Session.Stats!;
        File.WriteAllText(Path.Combine(m.Root, "read.py"), ReadLoop);
        for (int i = 0; i < 2; i++) m.Sh($"python3 {m.Root}/read.py small");
        stats.Reset();
        m.Sh($"python3 {m.Root}/read.py small");
        // Python's open is OPEN, fstat, IOCTL (isatty: the kernel sends every ioctl, and ENOTTY is as cheap an
        // answer as any), read from the page cache, RELEASE. With the writeback cache every close made the kernel
        // forget st_blocks, and the fstat cost a GETATTR per file; the listing needs no OPENDIR and no READDIR.
        Assert.True(stats.Count(FuseOpcode.GetAttr) <= 2, stats.Format());
        Assert.Equal(0, stats.Count(FuseOpcode.OpenDir) + stats.Count(FuseOpcode.ReadDirPlus) + stats.Count(FuseOpcode.ReadDir));
        Assert.True(stats.Count(FuseOpcode.Read) <= 2, stats.Format());
        long all = 0;
        foreach (FuseOpcode op in Enum.GetValues<FuseOpcode>()) all += stats.Count(op);
        Assert.True(all <= 3 * 100 + 5, stats.Format());
    }

    [Fact]
    public void Creating_and_deleting_small_files_costs_no_setattr()
    {
        using var m = new MountedStore(FillBase);
        m.Unmount();
        using var mount = AgentMount.Mount(m.StorePath, m.MountPoint, new AgentMountOptions { CollectStats = true });
        var stats = mount.Session.Stats!;
        m.Sh("mkdir many");
        stats.Reset();
        File.WriteAllText(Path.Combine(m.Root, "create.py"), "for i in range(200):\n    with open(f'many/f{i}', 'wb') as f: f.write(b'y' * 4096)\n");
        m.Sh($"python3 {m.Root}/create.py");
        // LOOKUP (negative), CREATE, GETXATTR security.capability, IOCTL, WRITE, GETATTR of the directory, RELEASE.
        // The writeback cache added a SETATTR of the mtime at every close.
        Assert.True(stats.Count(FuseOpcode.SetAttr) == 0, stats.Format());
        Assert.True(stats.Count(FuseOpcode.Write) == 200, stats.Format());
        stats.Reset();
        m.Sh("python3 -c 'import os\nfor i in range(200): os.unlink(f\"many/f{i}\")'");
        // UNLINK and the directory's GETATTR; the writeback cache added a SETATTR of the unlinked inode's ctime.
        Assert.True(stats.Count(FuseOpcode.SetAttr) == 0, stats.Format());
        Assert.True(stats.Count(FuseOpcode.Unlink) == 200, stats.Format());
        Assert.Empty(Directory.GetFiles(m.P("many")));
    }
}
