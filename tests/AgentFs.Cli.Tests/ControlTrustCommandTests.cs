using System.Diagnostics;
using System.Text;
using AgentFs.Control;

namespace AgentFs.Cli.Tests;

/// <summary>
/// Who may control a held branch, and where: the real ./agentfs run as another user (setpriv, util-linux)
/// or with a runtime directory another user made, against a branch held by this (root) test process.
/// </summary>
public sealed class ControlTrustCommandTests : IClassFixture<ScriptFixture>
{
    private const string Nobody = "65534";
    private readonly ScriptFixture _script;

    public ControlTrustCommandTests(ScriptFixture script) => _script = script;

    private CliResult RunAsNobody(params string[] args) => _script.RunAsNobody(args);

    private static void Mode(string path, string octal) => File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(octal, 8));

    /// <summary>Lets another user read the store (and nothing more), as a shared checkout would.</summary>
    private static void ShareReadOnly(Sandbox sb)
    {
        Mode(sb.Root, "755");
        foreach (var f in Directory.GetFiles(sb.Root, "store.agentfs*")) Mode(f, "644");
    }

    [Fact]
    public void A_user_who_does_not_own_the_holder_is_told_who_holds_the_branch()
    {
        using var sb = new Sandbox();
        long cp = sb.Checkpoint("one");
        using var store = AgentStore.Open(sb.StorePath);
        using var fs = store.OpenFileSystem("main"); // this (root) process holds main
        fs.WriteAllText("later.txt", "after the checkpoint");
        fs.Flush(durable: true);
        ShareReadOnly(sb);
        string before = Sandbox.Snapshot(sb.StorePath);

        foreach (string[] args in (string[][])[["rollback", sb.StorePath, cp.ToString()], ["checkpoint", sb.StorePath, "-m", "two"]])
        {
            var r = RunAsNobody(args).UserError(
                $"branch main of store {sb.StorePath} is held by process {Environment.ProcessId}",
                "of user root (uid 0)", "only root can", "you are nobody");
            Assert.DoesNotContain("does not accept control requests", r.Stderr);
        }
        Assert.Equal(before, Sandbox.Snapshot(sb.StorePath));
        Assert.Equal("after the checkpoint", fs.ReadAllText("later.txt"));
    }

    /// <summary>A directory made by another user (uid 65534), writable by all, as an attacker would leave it.</summary>
    private static string HostileRuntimeDirectory(Sandbox sb)
    {
        string dir = sb.PathIn("hostile");
        Directory.CreateDirectory(dir);
        Mode(sb.Root, "755");
        Mode(dir, "777");
        Process.Start("chown", [Nobody, dir])!.WaitForExit();
        return dir;
    }

    [Fact]
    public void Mount_and_status_refuse_a_runtime_directory_another_user_made()
    {
        using var sb = new Sandbox();
        string dir = HostileRuntimeDirectory(sb);
        string mnt = sb.PathIn("mnt");
        Directory.CreateDirectory(mnt);
        // A registry entry planted by the other user must not be listed.
        File.WriteAllText(Path.Combine(dir, "1-00000000.json"),
            $"{{\"Store\":\"/fake\",\"Branch\":\"main\",\"MountPoint\":\"/\",\"Pid\":1,\"Started\":\"2026-01-01T00:00:00Z\",\"ReadOnly\":false}}");
        var env = new Dictionary<string, string> { ["AGENTFS_RUNTIME_DIR"] = dir };

        try
        {
            var r = _script.Run(null, null, TimeSpan.FromSeconds(60), ["mount", sb.StorePath, mnt], env).UserError(
                $"runtime directory {dir} is owned by uid {Nobody}", "AGENTFS_RUNTIME_DIR");
            Assert.False(IsMounted(mnt), r.ToString());
        }
        finally
        {
            if (IsMounted(mnt)) Process.Start("umount", ["-l", mnt])!.WaitForExit(); // only when the refusal failed
        }
        Assert.Equal(["1-00000000.json"], Directory.GetFiles(dir).Select(Path.GetFileName));
        _script.Run(null, null, TimeSpan.FromSeconds(60), ["status"], env).UserError($"runtime directory {dir}", "AGENTFS_RUNTIME_DIR");
        sb.AssertBaseUnchanged();
    }

    private static bool IsMounted(string path) => File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ')[4] == path);

    /// <summary>Listens where the holder's socket would be, records what it receives, answers ok.</summary>
    private const string FakeServer = """
        import socket, sys, os
        path, log, ready = sys.argv[1], sys.argv[2], sys.argv[3]
        s = socket.socket(socket.AF_UNIX); s.bind(path); os.chmod(path, 0o666); s.listen(4)
        open(ready, 'w').close()
        while True:
            c, _ = s.accept(); f = c.makefile('rwb')
            line = f.readline()
            with open(log, 'ab') as out: out.write(b'GOT ' + line)
            f.write(b'{"ok":true,"id":1}\n'); f.flush(); c.close()
        """;

    [Fact]
    public void A_fake_holder_in_a_runtime_directory_another_user_made_gets_no_request()
    {
        using var sb = new Sandbox();
        long cp = sb.Checkpoint("one");
        using var store = AgentStore.Open(sb.StorePath);
        using var fs = store.OpenFileSystem("main"); // the real holder listens in this process's own runtime directory
        fs.WriteAllText("later.txt", "kept");
        fs.Flush(durable: true);
        string dir = HostileRuntimeDirectory(sb);
        string socket = Path.Combine(dir, Path.GetFileName(ControlPaths.SocketFor(store.StoreId, "main")));
        string log = Path.Combine(dir, "log"), ready = Path.Combine(dir, "ready");
        var psi = new ProcessStartInfo("setpriv") { RedirectStandardError = true };
        foreach (var a in (string[])["--reuid=" + Nobody, "--regid=" + Nobody, "--clear-groups", "/usr/bin/python3", "-c", FakeServer, socket, log, ready])
            psi.ArgumentList.Add(a);
        using var fake = Process.Start(psi)!;
        try
        {
            var sw = Stopwatch.StartNew();
            while (!File.Exists(ready))
            {
                if (fake.HasExited) Assert.Fail("the fake server exited: " + fake.StandardError.ReadToEnd());
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), "the fake server did not start");
                Thread.Sleep(20);
            }
            var env = new Dictionary<string, string> { ["AGENTFS_RUNTIME_DIR"] = dir };
            _script.Run(null, null, TimeSpan.FromSeconds(60), ["checkpoint", sb.StorePath, "-m", "secret message", "--meta", "k=secret value"], env)
                .UserError($"runtime directory was refused: {dir} is owned by uid {Nobody}");
            _script.Run(null, null, TimeSpan.FromSeconds(60), ["rollback", sb.StorePath, cp.ToString()], env)
                .UserError($"{dir} is owned by uid {Nobody}");
            Assert.False(File.Exists(log), File.Exists(log) ? File.ReadAllText(log) : "");
            Assert.Equal("kept", fs.ReadAllText("later.txt"));
            Assert.Equal(["one"], store.ListCheckpoints("main").Select(c => c.Message));
        }
        finally
        {
            fake.Kill();
            fake.WaitForExit();
        }
    }
}
