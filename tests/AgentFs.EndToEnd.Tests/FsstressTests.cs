using System.Diagnostics;
using Xunit.Abstractions;

namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// xfstests' fsstress (4 processes of random namespace and data operations) on a mount served by `agentfs mount
/// --background`. It checks nothing itself: after `sync`, `agentfs unmount` and a new mount every entry must show
/// the type, mode, owner, size, link count and content the mount showed before; after a kill -9 of the serving
/// process in the middle of it, everything that was fsynced must be there byte for byte. sqlite3's integrity_check
/// must pass every time.
/// </summary>
public class FsstressTests(ITestOutputHelper output)
{
    private static readonly string Agentfs = MountedStore.AgentfsCommand;

    /// <summary>Data operations weighted up, zero range most of all (what lost sizes before), with enough
    /// namespace operations to make a tree.</summary>
    private static readonly string[] DataHeavyMix =
    [
        "-z", "-f", "write=8", "-f", "writev=2", "-f", "truncate=4", "-f", "zero=8", "-f", "punch=4", "-f", "fallocate=4",
        "-f", "mwrite=4", "-f", "mread=2", "-f", "copyrange=4", "-f", "read=2", "-f", "splice=1", "-f", "dwrite=1",
        "-f", "awrite=1", "-f", "uring_write=1", "-f", "creat=4", "-f", "mkdir=1", "-f", "unlink=1", "-f", "rename=1",
        "-f", "link=1", "-f", "symlink=1", "-f", "chown=1", "-f", "setattr=1", "-f", "fsync=1", "-f", "fdatasync=1",
    ];

    [Theory]
    [InlineData("default-mix", 1)]
    [InlineData("data-heavy-zero-range", 2)]
    public void TreeIsTheSameAfterSyncUnmountAndMount(string mix, int seed)
    {
        var clock = Stopwatch.StartNew();
        using var s = new CliStore();
        string fsstress = Xfstests.CopyTool("fsstress", s.Work);
        s.Mount();
        output.WriteLine($"mounted at {clock.Elapsed.TotalSeconds:F1} s");
        string dir = Path.Combine(s.MountPoint, "stress");
        Directory.CreateDirectory(dir);
        var run = Xfstests.Execute(fsstress,
            ["-d", dir, "-p", "4", "-n", "2500", "-s", seed.ToString(), .. mix == "default-mix" ? Array.Empty<string>() : DataHeavyMix],
            s.Work, TimeSpan.FromMinutes(5));
        Assert.True(run.ExitCode == 0, $"fsstress exited {run.ExitCode}: {run.Output}");
        Xfstests.Execute("sync", [], s.Work, TimeSpan.FromMinutes(2));
        string before = Xfstests.Manifest(dir);
        int entries = before.Split('\n').Count(l => l.Contains('|'));
        output.WriteLine($"fsstress {mix}: -p 4 -n 2500 -s {seed} in {run.Duration.TotalSeconds:F1} s, {entries} entries");
        Assert.True(entries > 100, $"fsstress made only {entries} entries");

        output.WriteLine($"listed at {clock.Elapsed.TotalSeconds:F1} s");
        s.Unmount();
        output.WriteLine($"unmounted at {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal("ok", Xfstests.IntegrityCheck(s.StorePath));
        s.Mount();
        string after = Xfstests.Manifest(dir);
        output.WriteLine($"listed again at {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(before == after, $"after unmount and mount: {Xfstests.ManifestDifference(before, after)}");
        s.Unmount();
        Assert.Equal("ok", Xfstests.IntegrityCheck(s.StorePath));
    }

    /// <summary>
    /// fsstress (zero range heavy) and a script that writes a tree of files, zeroes, punches and extends some,
    /// fsyncs each and only then notes it as done; kill -9 of the serving process at a random moment. After a
    /// new mount every file noted as done is there byte for byte, the store passes integrity_check and the rest
    /// of the tree can be walked.
    /// </summary>
    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void KillDashNineKeepsEverythingFsynced(int seed)
    {
        using var s = new CliStore();
        string fsstress = Xfstests.CopyTool("fsstress", s.Work);
        var rng = new Random(seed);
        // The files and what each must read after the crash: some zeroed past the end (the size grows), some
        // zeroed with KEEP_SIZE, some punched.
        string sources = Path.Combine(s.Work, "src");
        Directory.CreateDirectory(sources);
        const int Files = 60;
        var expected = new byte[Files][];
        var script = new System.Text.StringBuilder("set -e\n");
        for (int i = 0; i < Files; i++)
        {
            var data = new byte[rng.Next(1, 400_000)];
            rng.NextBytes(data);
            File.WriteAllBytes(Path.Combine(sources, $"f{i}"), data);
            string target = $"\"$M/synced/d{i % 5}/f{i}\"";
            int len = data.Length;
            script.Append($"mkdir -p \"$M/synced/d{i % 5}\"\n");
            script.Append($"dd if=\"$S/f{i}\" of={target} bs=65536 conv=fsync status=none\n");
            switch (i % 4)
            {
                case 1: // zero range from the middle to past the end: the size grows to offset + length
                    script.Append($"fallocate -z -o {len / 2} -l {len} {target}\n");
                    expected[i] = new byte[len / 2 + len];
                    data.AsSpan(0, len / 2).CopyTo(expected[i]);
                    break;
                case 2: // zero range with KEEP_SIZE past the end
                    script.Append($"fallocate -z -n -o {len / 3} -l {len} {target}\n");
                    expected[i] = (byte[])data.Clone();
                    expected[i].AsSpan(len / 3).Clear();
                    break;
                case 3: // punch a hole inside
                    script.Append($"fallocate -p -o {len / 4} -l {Math.Max(1, len / 2)} {target}\n");
                    expected[i] = (byte[])data.Clone();
                    expected[i].AsSpan(len / 4, Math.Min(Math.Max(1, len / 2), len - len / 4)).Clear();
                    break;
                default:
                    expected[i] = data;
                    break;
            }
            script.Append($"sync {target}\necho {i} >> \"$S/done\"\n");
        }
        string scriptPath = Path.Combine(s.Work, "write-synced.sh");
        File.WriteAllText(scriptPath, script.ToString());
        string doneList = Path.Combine(sources, "done");

        int pid = s.Mount();
        string stressDir = Path.Combine(s.MountPoint, "stress");
        Directory.CreateDirectory(stressDir);
        var stress = Start(fsstress, ["-d", stressDir, "-p", "4", "-n", "1000000", "-s", seed.ToString(), .. DataHeavyMix], s.Work);
        var writer = Start("bash", [scriptPath], s.Work, ("M", s.MountPoint), ("S", sources));
        // Kill once some files are done, at a random moment after that.
        var deadline = Stopwatch.StartNew();
        while (DoneCount(doneList) < 5 && !writer.HasExited && deadline.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
        Thread.Sleep(rng.Next(100, 1500));
        Process.GetProcessById(pid).Kill();
        WaitForExit(pid);
        foreach (var p in new[] { stress, writer })
            if (!p.WaitForExit(60_000)) { p.Kill(true); p.WaitForExit(); }
        Xfstests.Execute("umount", ["-l", s.MountPoint], s.Work, TimeSpan.FromMinutes(1));
        int done = DoneCount(doneList);
        output.WriteLine($"seed {seed}: killed after {deadline.Elapsed.TotalSeconds:F1} s with {done} of {Files} files fsynced");
        Assert.True(done >= 5, $"only {done} files were written before the kill; writer exit {(writer.HasExited ? writer.ExitCode : -1)}");

        Assert.Equal("ok", Xfstests.IntegrityCheck(s.StorePath));
        s.Mount();
        foreach (var line in File.ReadAllLines(doneList))
        {
            int i = int.Parse(line);
            string path = Path.Combine(s.MountPoint, "synced", $"d{i % 5}", $"f{i}");
            var actual = File.ReadAllBytes(path);
            Assert.True(expected[i].Length == actual.Length, $"f{i}: {actual.Length} bytes after the crash, {expected[i].Length} were fsynced");
            Assert.True(expected[i].AsSpan().SequenceEqual(actual), $"f{i}: first different byte at {expected[i].AsSpan().CommonPrefixLength(actual)}");
        }
        // Whatever of fsstress's unsynced work survived is a committed state that reads without errors.
        Xfstests.Manifest(stressDir);
        s.Unmount();
        Assert.Equal("ok", Xfstests.IntegrityCheck(s.StorePath));
    }

    private static int DoneCount(string path) => File.Exists(path) ? File.ReadAllLines(path).Length : 0;

    private static Process Start(string program, string[] args, string cwd, params (string Name, string Value)[] env)
    {
        var psi = new ProcessStartInfo(program) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (name, value) in env) psi.Environment[name] = value;
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>SIGKILL is asynchronous: waits until the process is gone (or a zombie).</summary>
    private static void WaitForExit(int pid)
    {
        for (int w = 0; w < 1500 && Directory.Exists($"/proc/{pid}"); w++)
        {
            try { if (File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ")) return; }
            catch (IOException) { return; }
            Thread.Sleep(20);
        }
    }

    /// <summary>A store over an empty base in a scratch directory (tmpfs when there is one), mounted and unmounted
    /// with the agentfs command, so a kill -9 hits a separate serving process.</summary>
    private sealed class CliStore : IDisposable
    {
        public CliStore()
        {
            string parent = Xfstests.FastScratchParent ?? Path.GetTempPath();
            Root = Directory.CreateDirectory(Path.Combine(parent, "agentfs-stress-" + Path.GetRandomFileName())).FullName;
            Work = Path.Combine(Root, "work");
            MountPoint = Path.Combine(Root, "mnt");
            StorePath = Path.Combine(Root, "s.agentfs");
            string b = Path.Combine(Root, "base");
            Directory.CreateDirectory(Work);
            Directory.CreateDirectory(MountPoint);
            Directory.CreateDirectory(b);
            Run($"{Agentfs} init {StorePath} --base {b}");
        }

        public string Root { get; }
        public string Work { get; }
        public string MountPoint { get; }
        public string StorePath { get; }
        private int _pid;

        /// <summary>Mounts in the background; returns the serving process's id.</summary>
        public int Mount() => _pid = int.Parse(Run($"{Agentfs} mount {StorePath} {MountPoint} --background").Trim());

        /// <summary>`agentfs unmount`, then waits for the serving process to end (it commits on the way out).</summary>
        public void Unmount()
        {
            Run($"{Agentfs} unmount {MountPoint}");
            var sw = Stopwatch.StartNew();
            while (Directory.Exists($"/proc/{_pid}") && sw.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(20);
            Assert.False(Directory.Exists($"/proc/{_pid}"),
                $"agentfs mount (pid {_pid}) still runs 60 s after unmount; another mount namespace may hold {MountPoint}");
        }

        /// <summary>Runs a command; returns its stdout (stderr only goes into the failure message).</summary>
        private static string Run(string cmd)
        {
            using var p = Process.Start(new ProcessStartInfo("bash", ["-c", cmd]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var err = p.StandardError.ReadToEndAsync();
            string o = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(180_000)) { p.Kill(true); throw new Xunit.Sdk.XunitException($"{cmd} timed out"); }
            if (p.ExitCode != 0) throw new Xunit.Sdk.XunitException($"{cmd} exited {p.ExitCode}: {err.Result}");
            return o;
        }

        public void Dispose()
        {
            if (AgentFs.Fuse.AgentMount.IsMountPoint(MountPoint)) Process.Start("umount", ["-l", MountPoint])!.WaitForExit();
            if (_pid != 0 && Directory.Exists($"/proc/{_pid}"))
            {
                try { Process.GetProcessById(_pid).Kill(); } catch (ArgumentException) { }
            }
            try { Directory.Delete(Root, true); } catch { }
        }
    }
}
