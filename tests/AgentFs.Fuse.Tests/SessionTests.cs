using System.Diagnostics;
using System.Text;
using AgentFs.Fuse.Protocol;
using Xunit.Abstractions;

namespace AgentFs.Fuse.Tests;

/// <summary>The session's life: unmount, read-only, fusermount, interrupts, notifications, passthrough.</summary>
public class SessionTests(ITestOutputHelper output)
{
    [Fact]
    public void UnmountStopsTheReadersAndLeavesNoMount()
    {
        if (!TestMount.FuseAvailable)
            return;
        using var mount = new TestMount();
        File.WriteAllText(mount["a"], "a");
        Assert.True(mount.Session.IsRunning);

        mount.Session.Unmount();
        Assert.True(mount.Session.WaitForExit(TimeSpan.FromSeconds(5)));
        Assert.False(mount.Session.IsRunning);
        Assert.False(TestMount.IsMounted(mount.Path));
        Assert.True(mount.Fs.Destroyed);
        Assert.Empty(mount.Logs);
    }

    [Fact]
    public void DisposeWithAFileStillOpenAbortsTheConnection()
    {
        if (!TestMount.FuseAvailable)
            return;
        var mount = new TestMount(configure: o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(300));
        File.WriteAllText(mount["open.txt"], "still open");
        using var open = new FileStream(mount["open.txt"], FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
        var watch = Stopwatch.StartNew();
        mount.Dispose();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"took {watch.Elapsed}");
        Assert.False(mount.Session.IsRunning);
        Assert.False(TestMount.IsMounted(mount.Path));
        // The daemon is gone: syncing the open file fails (ENOTCONN) instead of hanging.
        open.Write("more"u8);
        Assert.Equal(107 /* ENOTCONN */, Probe.Fsync(open.SafeFileHandle));
    }

    [Fact]
    public void ReadOnlyMountRefusesWrites()
    {
        if (!TestMount.FuseAvailable)
            return;
        var fs = new MemoryFileSystem();
        fs.PutFileBehindKernel("given.txt", "given"u8.ToArray());
        using var mount = new TestMount(fs, o => o.ReadOnly = true);
        Assert.Equal("given", File.ReadAllText(mount["given.txt"]));
        Assert.ThrowsAny<IOException>(() => File.WriteAllText(mount["new.txt"], "no"));
        Assert.Contains(" ro,", File.ReadLines("/proc/mounts").Single(l => l.Split(' ')[1] == mount.Path));
    }

    [Theory]
    [InlineData("stand-in")]
    [InlineData("/usr/bin/fusermount3")]
    public void MountsThroughFusermountWithTheDescriptorPassedOverASocket(string fusermount)
    {
        // The stand-in (a Python script doing what fusermount3 does) runs where fuse3 is not installed.
        string program = fusermount == "stand-in" ? Path.Combine(AppContext.BaseDirectory, "fake-fusermount3.py") : fusermount;
        if (!TestMount.FuseAvailable || !File.Exists(program) || fusermount == "stand-in" && !TestMount.OnPath("python3"))
        {
            output.WriteLine($"{program} cannot run here; nothing to check.");
            return;
        }
        using var mount = new TestMount(configure: o =>
        {
            o.UseFusermount = true;
            o.FusermountPath = program;
        });
        File.WriteAllText(mount["via-fusermount"], "passed over SCM_RIGHTS");
        Assert.Equal("passed over SCM_RIGHTS", File.ReadAllText(mount["via-fusermount"]));
        Assert.Contains(" fuse.agentfs ", File.ReadLines("/proc/mounts").Single(l => l.Split(' ')[1] == mount.Path));
        mount.Session.Unmount(); // fusermount3 -u -z
        Assert.True(mount.Session.WaitForExit(TimeSpan.FromSeconds(5)));
        Assert.False(TestMount.IsMounted(mount.Path));
    }

    [Fact]
    public void InterruptedReadEndsWithoutWaitingForTheFilesystem()
    {
        if (!TestMount.FuseAvailable)
            return;
        var fs = new MemoryFileSystem();
        fs.PutFileBehindKernel("slow", new byte[4096]);
        using var mount = new TestMount(fs);

        var watch = Stopwatch.StartNew();
        var start = new ProcessStartInfo("timeout", ["-s", "INT", "0.5", "cat", mount["slow"]]) { RedirectStandardOutput = true };
        using Process process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(8000));
        watch.Stop();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.Equal(1, fs.Interrupts);
    }

    [Fact]
    public void NotificationsInvalidateWhatTheKernelCached()
    {
        if (!TestMount.FuseAvailable)
            return;
        var fs = new MemoryFileSystem(timeout: TimeSpan.FromMinutes(10));
        using var mount = new TestMount(fs);

        // A negative entry, cached for ten minutes, hides a file added behind the kernel's back...
        Assert.False(File.Exists(mount["late.txt"]));
        fs.PutFileBehindKernel("late.txt", "late"u8.ToArray());
        Assert.False(File.Exists(mount["late.txt"]));
        // ...until the entry is invalidated.
        Assert.Equal(0, mount.Session.NotifyInvalEntry(1, "late.txt"u8));
        Assert.Equal("late", File.ReadAllText(mount["late.txt"]));

        // Cached pages (kept across opens) hide new content of the same size...
        File.WriteAllText(mount["data.txt"], "aaaa");
        Assert.Equal("aaaa", File.ReadAllText(mount["data.txt"]));
        ulong node = fs.PutFileBehindKernel("data.txt", "bbbb"u8.ToArray());
        Assert.Equal("aaaa", File.ReadAllText(mount["data.txt"]));
        // ...until the inode is invalidated.
        Assert.Equal(0, mount.Session.NotifyInvalInode(node));
        Assert.Equal("bbbb", File.ReadAllText(mount["data.txt"]));

        // A deletion behind the kernel's back, announced with NotifyDelete.
        ulong lateNode = fs.NodeIdOf("late.txt")!.Value;
        Assert.True(File.Exists(mount["late.txt"]));
        var unlink = new FuseContext(0, 1, 0, 0, 0);
        Assert.Equal(0, ((IFuseFileSystem)fs).Unlink(in unlink, 1, "late.txt"u8));
        Assert.Equal(0, mount.Session.NotifyDelete(1, lateNode, "late.txt"u8));
        Assert.False(File.Exists(mount["late.txt"]));

        // Unknown nodes are reported, not fatal.
        Assert.Equal(2 /* ENOENT */, mount.Session.NotifyInvalInode(987654));
    }

    [Fact]
    public void PassthroughServesReadsFromTheBackingFile()
    {
        if (!TestMount.FuseAvailable)
            return;
        string backing = Path.Combine("/tmp", "agentfs-fuse-backing-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllText(backing, "from the backing file");
        try
        {
            var fs = new MemoryFileSystem { PassthroughBackingPath = backing };
            fs.PutFileBehindKernel("passthrough.bin", Encoding.ASCII.GetBytes(new string('x', "from the backing file".Length)));
            using var mount = new TestMount(fs, o => o.Passthrough = true);
            output.WriteLine(mount.Session.Connection.ToString());
            if (!mount.Session.Connection.KernelFlags.HasFlag(FuseInitFlags.Passthrough))
            {
                output.WriteLine("The kernel does not offer passthrough; nothing to check.");
                return;
            }
            Assert.True(mount.Session.Connection.Passthrough);
            Assert.False(mount.Session.Connection.WritebackCache);

            int readsBefore = fs.Reads;
            Assert.Equal("from the backing file", File.ReadAllText(mount["passthrough.bin"]));
            Assert.Equal(1, fs.PassthroughOpens);
            Assert.Equal(readsBefore, fs.Reads);
        }
        finally
        {
            File.Delete(backing);
        }
    }
}

/// <summary>fsync(2) itself: FileStream.Flush(true) swallows some errors.</summary>
internal static partial class Probe
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncRaw(nint fd);

    public static int Fsync(Microsoft.Win32.SafeHandles.SafeFileHandle handle) =>
        FsyncRaw(handle.DangerousGetHandle()) == 0 ? 0 : System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
}
