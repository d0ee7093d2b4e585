using System.Diagnostics;
using AgentFs.Fuse;

namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// A mount whose store lives on a small tmpfs that fills up: commits fail, and that must show (writes and fsync
/// fail with ENOSPC, STORE.log says why, unmount exits 1 naming what was not saved), the changes already accepted
/// are kept and committed once there is room again, and the store stays consistent.
/// </summary>
public class DiskFullTests
{
    private static readonly string Agentfs = MountedStore.AgentfsCommand;
    private const int FileSize = 512 * 1024;

    [Fact]
    public void AFullDiskFailsWritesAndUnmountAndKeepsWhatWasAcceptedUntilThereIsRoom()
    {
        string root = Directory.CreateTempSubdirectory("agentfs-full-").FullName;
        string small = Path.Combine(root, "small"), b = Path.Combine(root, "base"), mnt = Path.Combine(root, "mnt"), src = Path.Combine(root, "src");
        string store = Path.Combine(small, "s.agentfs"), filler = Path.Combine(small, "filler");
        foreach (var d in new[] { small, b, mnt, src }) Directory.CreateDirectory(d);
        Run($"mount -t tmpfs -o size=16m tmpfs {small}");
        Process? server = null;
        try
        {
            Run($"{Agentfs} init {store} --base {b}");
            // Room the test gives back later: deleting it lets the pending changes commit, and leaves room for the
            // WAL to be copied into the store (SQLite needs the changed pages twice until the checkpoint is done).
            File.WriteAllBytes(filler, new byte[9 << 20]);
            Run($"{Agentfs} mount {store} {mnt} --background");
            File.WriteAllText(Path.Combine(mnt, "early.txt"), "committed before the disk filled\n");
            Run($"sync {mnt}/early.txt");

            // Fill the store's disk through the mount with plain writes (no fsync) until one is refused.
            var accepted = FillUntilRefused(mnt, src, "fill", out string refusal);
            Assert.Contains("No space left on device", refusal);
            Assert.NotEmpty(accepted);

            // From now on every change fails with ENOSPC, and so does fsync, until a commit succeeds again.
            var (code, _, err) = Try($"echo more > {mnt}/after-full.txt");
            Assert.NotEqual(0, code);
            Assert.Contains("No space left on device", err);
            (code, _, err) = Try($"sync {mnt}/early.txt");
            Assert.NotEqual(0, code);
            Assert.Contains("No space left on device", err);
            (code, _, err) = Try($"mkdir {mnt}/newdir");
            Assert.NotEqual(0, code);
            Assert.Contains("No space left on device", err);
            // The serving process runs detached (--background): it says why in STORE.log, which only its owner reads.
            string log = File.ReadAllText(store + ".log");
            Assert.Contains($"committing changes to {store} failed", log);
            Assert.Contains("the disk is full", log);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store + ".log"));

            // Room again: the kept changes commit (the committer retries them) and writes work again.
            File.Delete(filler);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (Try($"echo more > {mnt}/after-room.txt").Code != 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "writes still fail 20 s after space was freed");
                Thread.Sleep(200);
            }
            Run($"sync {mnt}/after-room.txt");
            Assert.Contains("can be written again", File.ReadAllText(store + ".log"));
            var (unmountCode, _, unmountErr) = Try($"{Agentfs} unmount {mnt}");
            Assert.True(unmountCode == 0, $"unmount of a mount that could commit everything exited {unmountCode}: {unmountErr}");
            Assert.Equal("ok", Run($"sqlite3 {store} 'PRAGMA integrity_check'").Trim());
            AssertStoreHolds(store, accepted);

            // Full again, and unmounted before there is room: what was not saved is named, by unmount (exit 1) and
            // by the serving process (here in the foreground: its exit code and stderr).
            // The store now holds what phase one saved; give the next mount room to open (lease, WAL), then fill again.
            Run($"mount -o remount,size=32m {small}");
            server = Process.Start(new ProcessStartInfo(Agentfs, ["mount", store, mnt]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            var serverErr = server.StandardError.ReadToEndAsync();
            for (int i = 0; i < 300 && !AgentMount.IsMountPoint(mnt) && !server.HasExited; i++) Thread.Sleep(100);
            Assert.True(AgentMount.IsMountPoint(mnt), $"the foreground mount did not come up: {(server.HasExited ? serverErr.Result : "")}");
            Try($"head -c 64M /dev/zero > {filler}"); // fails once the tmpfs is full, which is the point
            var lost = FillUntilRefused(mnt, src, "lost", out refusal);
            Assert.Contains("No space left on device", refusal);
            (unmountCode, _, unmountErr) = Try($"{Agentfs} unmount {mnt}");
            Assert.Equal(1, unmountCode);
            Assert.Contains("were not saved to store " + store, unmountErr);
            Assert.Contains("the disk is full", unmountErr);
            Assert.Matches(@"\d+ changed files or directories \(\d+ bytes of data\)", unmountErr);
            Assert.True(server.WaitForExit(30_000), "the serving process did not exit");
            Assert.Equal(1, server.ExitCode);
            Assert.Contains("were not saved to store " + store, serverErr.Result);
            Assert.Contains("were not saved", File.ReadAllText(store + ".log"));

            // What was committed before is all there, and the store is consistent.
            File.Delete(filler);
            Assert.Equal("ok", Run($"sqlite3 {store} 'PRAGMA integrity_check'").Trim());
            AssertStoreHolds(store, accepted);
        }
        finally
        {
            if (server is { HasExited: false }) server.Kill();
            if (AgentMount.IsMountPoint(mnt)) Try($"umount -l {mnt}");
            Try($"umount -l {small}");
            try { Directory.Delete(root, true); } catch { }
        }
    }

    /// <summary>Writes files of random bytes through the mount (cat, which reports a failed write or close) until
    /// one is refused; returns the accepted ones (name, content) and the refusal's message.</summary>
    private static Dictionary<string, byte[]> FillUntilRefused(string mnt, string src, string prefix, out string refusal)
    {
        var accepted = new Dictionary<string, byte[]>();
        for (int i = 0; i < 200; i++)
        {
            var data = new byte[FileSize];
            Random.Shared.NextBytes(data);
            string source = Path.Combine(src, $"{prefix}{i}");
            File.WriteAllBytes(source, data);
            var (code, _, err) = Try($"cat {source} > {mnt}/{prefix}{i}");
            if (code != 0)
            {
                refusal = err;
                return accepted;
            }
            accepted[$"{prefix}{i}"] = data;
            Thread.Sleep(100); // let the group commit run (500 ms interval), as it would between an agent's steps
        }
        throw new Xunit.Sdk.XunitException($"{accepted.Count * FileSize} bytes were accepted on a 16 MiB disk without an error");
    }

    private static void AssertStoreHolds(string store, Dictionary<string, byte[]> files)
    {
        using var s = AgentStore.Open(store, new StoreOptions { ReadOnly = true });
        using var fs = s.OpenFileSystem(readOnly: true);
        Assert.Equal("committed before the disk filled\n", fs.ReadAllText("early.txt"));
        foreach (var (name, data) in files) Assert.True(data.AsSpan().SequenceEqual(fs.ReadAllBytes(name)), $"{name} differs after remount");
    }

    private static string Run(string cmd)
    {
        var (code, o, e) = Try(cmd);
        if (code != 0) throw new Xunit.Sdk.XunitException($"{cmd} exited {code}: {e}");
        return o;
    }

    private static (int Code, string Out, string Err) Try(string cmd)
    {
        var p = Process.Start(new ProcessStartInfo("bash", ["-c", cmd]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var e = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, e.Result);
    }
}
