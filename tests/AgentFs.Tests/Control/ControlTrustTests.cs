using AgentFs.Control;
using System.Text.Json.Nodes;
using static AgentFs.Tests.Control.ControlTestKit;

namespace AgentFs.Tests.Control;

/// <summary>
/// The runtime directory and the control socket cannot be taken over by another user: a directory that is
/// not ours alone is refused, and a client sends nothing to a server run by another uid.
/// </summary>
public sealed class ControlTrustTests : IDisposable
{
    private static readonly uint Me = Native.LibC.geteuid();
    private readonly TempStore _t = new(makeBase: false);

    public void Dispose() => _t.Dispose();

    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void The_runtime_directory_is_the_override_then_XDG_then_run_for_root_then_tmp_by_uid()
    {
        string xdg = PrivateDirectory(_t.Root, "xdg");
        Assert.Equal("/srv/rt", ControlPaths.Choose(Env(("AGENTFS_RUNTIME_DIR", "/srv/rt"), ("XDG_RUNTIME_DIR", xdg)), Me));
        Assert.Equal(Path.Combine(xdg, "agentfs"), ControlPaths.Choose(Env(("XDG_RUNTIME_DIR", xdg)), Me));
        // An XDG_RUNTIME_DIR that is not ours (sudo keeping the caller's) is passed over.
        string othersXdg = PrivateDirectory(_t.Root, "xdg-other", owner: OtherUid);
        Assert.Equal("/run/agentfs", ControlPaths.Choose(Env(("XDG_RUNTIME_DIR", othersXdg)), 0));
        Assert.Equal("/run/agentfs", ControlPaths.Choose(Env(("XDG_RUNTIME_DIR", "relative/dir")), 0));
        Assert.Equal("/tmp/agentfs-1234", ControlPaths.Choose(Env(), 1234));
        Assert.Equal("/run/agentfs", ControlPaths.Choose(Env(), 0));
    }

    [Fact]
    public void A_missing_runtime_directory_is_created_0700()
    {
        string dir = Path.Combine(_t.Root, "new", "agentfs");
        Assert.Equal(dir, ControlPaths.Prepare(dir, Me));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
        Assert.Null(ControlPaths.Problem(dir, Me));
    }

    public static TheoryData<string, string> HostileDirectories => new()
    {
        { "owned-by-another-uid", $"owned by uid {OtherUid}" },
        { "symlink-to-ours", "symbolic link" },
        { "world-writable", "writable by group or others (mode 777)" },
        { "group-writable", "writable by group or others (mode 770)" },
        { "sticky-world-writable", "writable by group or others" },
        { "below-a-world-writable-parent", "which others can write" },
        { "below-a-parent-of-another-uid", $"owned by uid {OtherUid}" },
        { "a-file", "not a directory" },
    };

    [Theory]
    [MemberData(nameof(HostileDirectories))]
    public void A_runtime_directory_another_user_could_change_is_refused(string kind, string problem)
    {
        string root = PrivateDirectory(_t.Root, "rt");
        string dir = Path.Combine(root, "agentfs");
        switch (kind)
        {
            case "owned-by-another-uid": PrivateDirectory(root, "agentfs", owner: OtherUid); break;
            case "symlink-to-ours": Directory.CreateSymbolicLink(dir, PrivateDirectory(root, "real")); break;
            case "world-writable": Mode(PrivateDirectory(root, "agentfs"), "777"); break;
            case "group-writable": Mode(PrivateDirectory(root, "agentfs"), "770"); break;
            case "sticky-world-writable": Mode(PrivateDirectory(root, "agentfs"), "1777"); break;
            case "below-a-world-writable-parent":
                Mode(root, "777");
                PrivateDirectory(root, "agentfs");
                break;
            case "below-a-parent-of-another-uid":
                Run("chown", OtherUid.ToString(), root);
                PrivateDirectory(root, "agentfs");
                break;
            case "a-file": File.WriteAllText(dir, ""); break;
        }
        var e = Assert.Throws<AgentFsException>(() => ControlPaths.Prepare(dir, Me));
        Assert.Equal(Errno.EACCES, e.Errno);
        Assert.Contains($"runtime directory {dir} ", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.Contains("AGENTFS_RUNTIME_DIR", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        // Nothing was created through it.
        Assert.False(File.Exists(Path.Combine(root, "real", "x")));
    }

    private static void Mode(string path, string octal) => File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(octal, 8));

    /// <summary>A fake holder run by another uid: records every byte it receives, answers ok to anything.</summary>
    private const string FakeServer = """
        import socket, sys, os
        path, log, ready = sys.argv[1], sys.argv[2], sys.argv[3]
        s = socket.socket(socket.AF_UNIX); s.bind(path); os.chmod(path, 0o666); s.listen(4)
        open(ready, 'w').close()
        while True:
            c, _ = s.accept(); c.settimeout(3)
            got = b''
            try:
                while True:
                    chunk = c.recv(65536)
                    if not chunk: break
                    got += chunk
                    if got.endswith(b'\n'):
                        c.sendall(b'{"ok":true,"id":1}\n')
            except Exception: pass
            with open(log, 'ab') as f: f.write(b'CONNECTION ' + got + b'\n')
            c.close()
        """;

    [Fact]
    public void A_client_sends_nothing_to_a_control_socket_served_by_another_uid()
    {
        WithFakeServerOfAnotherUid((socket, log) =>
        {
            var request = new JsonObject { ["op"] = "checkpoint", ["message"] = "secret message", ["meta"] = new JsonObject { ["k"] = "secret value" } };
            var e = Assert.Throws<AgentFsException>(() => ControlClient.TrySendTo(socket, "the holder", holderUid: Me, request));
            Assert.Equal(Errno.EACCES, e.Errno);
            Assert.Contains($"control socket {socket} is served by uid {OtherUid}", e.Message);
            Assert.Contains("not sent", e.Message);
            // The fake saw a connection that ended without a byte.
            var sw = System.Diagnostics.Stopwatch.StartNew();
            while (!File.Exists(log) && sw.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(20);
            Assert.Equal("CONNECTION \n", File.ReadAllText(log));
        });
    }

    [Fact]
    public void A_root_client_accepts_the_holders_own_uid_but_no_other()
    {
        Assert.Equal(0u, Me); // the tests run as root (see the notes): root may control another user's holder
        WithFakeServerOfAnotherUid((socket, _) =>
        {
            var reply = ControlClient.TrySendTo(socket, "the holder", holderUid: OtherUid, new JsonObject { ["op"] = "ping" });
            Assert.True(reply!["ok"]!.GetValue<bool>());
            Assert.Throws<AgentFsException>(() => ControlClient.TrySendTo(socket, "the holder", holderUid: 1234, new JsonObject { ["op"] = "ping" }));
        });
    }

    /// <summary>Runs <paramref name="test"/> against the fake server, serving as another uid from that uid's 0700 directory.</summary>
    private void WithFakeServerOfAnotherUid(Action<string, string> test)
    {
        Mode(_t.Root, "755");
        string dir = PrivateDirectory(_t.Root, "theirs", owner: OtherUid);
        string socket = Path.Combine(dir, "ctl.sock");
        string log = Path.Combine(dir, "log"), ready = Path.Combine(dir, "ready");
        using var fake = StartAsOtherUser(FakeServer, socket, log, ready);
        try
        {
            WaitFor(ready, fake);
            test(socket, log);
        }
        finally
        {
            fake.Kill();
            fake.WaitForExit();
        }
    }

    [Fact]
    public void The_holder_listens_in_a_checked_runtime_directory_and_a_client_finds_it_there()
    {
        // End to end in one process, through the same paths another process uses.
        _t.WriteBase("a.txt", "x");
        using var store = _t.Create();
        using var fs = store.OpenFileSystem();
        string socket = ControlPaths.SocketFor(store.StoreId, "main");
        Assert.True(File.Exists(socket));
        Assert.Null(ControlPaths.Problem(Path.GetDirectoryName(socket)!, Me));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));
        var reply = ControlClient.TrySendTo(socket, "the holder", Me, new JsonObject { ["op"] = "ping" });
        Assert.Equal(Environment.ProcessId, reply!["pid"]!.GetValue<int>());
    }
}
