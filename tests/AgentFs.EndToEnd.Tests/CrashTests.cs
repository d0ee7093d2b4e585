using System.Diagnostics;

namespace AgentFs.EndToEnd.Tests;

/// <summary>kill -9 of the process serving a mount, in the middle of writes: the store opens consistent and
/// keeps everything that was fsynced.</summary>
public class CrashTests
{
    private static readonly string Agentfs = MountedStore.AgentfsCommand;

    [Fact]
    public void KillDashNineLosesNothingThatWasFsynced()
    {
        string root = Directory.CreateTempSubdirectory("agentfs-crash-").FullName;
        string b = Path.Combine(root, "base"), mnt = Path.Combine(root, "mnt"), store = Path.Combine(root, "s.agentfs");
        Directory.CreateDirectory(b);
        Directory.CreateDirectory(mnt);
        File.WriteAllText(Path.Combine(b, "base.txt"), "base\n");
        try
        {
            Run($"{Agentfs} init {store} --base {b}");
            int pid = int.Parse(Run($"{Agentfs} mount {store} {mnt} --background").Trim());
            // Durable files: written and fsynced. Then a stream of unsynced writes while the process is killed.
            for (int i = 0; i < 20; i++)
            {
                using var f = new FileStream(Path.Combine(mnt, $"synced{i}"), FileMode.Create);
                f.Write(Content(i));
                f.Flush(flushToDisk: true);
            }
            var writer = Process.Start("bash", ["-c", $"for i in $(seq 1 100000); do head -c 20000 /dev/urandom > {mnt}/loose$((i % 50)) || exit 0; done"])!;
            Thread.Sleep(700);
            Process.GetProcessById(pid).Kill();
            // SIGKILL is asynchronous: wait until the process is gone (or a zombie) before taking over its branch.
            for (int w = 0; w < 500 && Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z "); w++)
                Thread.Sleep(20);
            if (!writer.WaitForExit(30_000))
                throw new Xunit.Sdk.XunitException("writer stuck; daemon threads: " +
                    Run($"for t in /proc/{pid}/task/*; do echo \"$t $(grep State $t/status) $(cat $t/wchan)\"; done; grep State /proc/{writer.Id}/status; cat /proc/{writer.Id}/wchan; ps -eo pid,ppid,stat,wchan:30,cmd | grep -v grep | grep -E 'head|agentfs'"));
            Run($"umount -l {mnt}");

            Assert.Equal("ok", Run($"sqlite3 {store} 'PRAGMA integrity_check'").Trim());
            using var s = AgentStore.Open(store);
            Assert.Null(s.LeaseHolder("main")); // a killed (even unreaped) process holds no lease
            using var fs = s.OpenFileSystem();
            for (int i = 0; i < 20; i++) Assert.Equal(Content(i), fs.ReadAllBytes($"synced{i}"));
            Assert.Equal("base\n", fs.ReadAllText("base.txt"));
            // Whatever of the unsynced files made it is whole: a committed state, never a torn one.
            foreach (var e in fs.Enumerate("/").Where(e => e.NameString.StartsWith("loose")))
                Assert.InRange(fs.GetAttributes(e.NameString).Size, 0, 20000);
            // The lease of the dead process does not block a new writer.
            fs.WriteAllText("after-crash", "ok");
        }
        finally
        {
            if (AgentFs.Fuse.AgentMount.IsMountPoint(mnt)) Process.Start("umount", ["-l", mnt])!.WaitForExit();
            try { Directory.Delete(root, true); } catch { }
        }
    }

    private static byte[] Content(int i)
    {
        var d = new byte[30_000 + i * 1000];
        new Random(i).NextBytes(d);
        return d;
    }

    private static string Run(string cmd)
    {
        var p = Process.Start(new ProcessStartInfo("bash", ["-c", cmd]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string o = p.StandardOutput.ReadToEnd();
        string e = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new Xunit.Sdk.XunitException($"{cmd} exited {p.ExitCode}: {e}");
        return o;
    }
}
