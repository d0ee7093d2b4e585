using System.Diagnostics;
using System.Net.Sockets;

namespace AgentFs.Sandbox.Tests;

/// <summary>
/// What the sandbox could reach of the host besides files: descriptors agentfs run inherited, and Unix sockets
/// of host services, which connect() reaches through a read-only mount.
/// </summary>
public sealed class HostIpcTests : IDisposable
{
    private readonly SandboxProject _p = new();
    private readonly string _socketDir = Directory.CreateDirectory($"/var/tmp/agentfs-sockets-{Guid.NewGuid():N}").FullName;
    private readonly List<Socket> _servers = [];

    public void Dispose()
    {
        foreach (var s in _servers) s.Dispose();
        try { Directory.Delete(_socketDir, true); } catch (Exception) { }
        _p.Dispose();
    }

    [Fact]
    public void Descriptors_inherited_by_agentfs_run_do_not_reach_the_sandbox()
    {
        string secret = _p.PathIn("host-secret");
        File.WriteAllText(secret, "host only\n");
        // The parent shell opens 7 (write) and 12 (read) on a host file without close-on-exec, as `cmd 7>FILE` does.
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _p.BaseDir };
        foreach (string a in (string[])["-c", "exec 7>>\"$1\" 12<\"$1\"; exec \"$2\" run \"$3\" -- bash -c 'ls -l /proc/[0-9]*/fd/ 2>/dev/null; cat <&12 && echo read-12'",
                     "test", secret, SandboxProject.Agentfs, _p.StorePath])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000));
        Assert.True(output.Contains("/fd/"), output + err.Result);  // the listing ran
        Assert.DoesNotContain("host-secret", output);               // no process inside holds the file
        Assert.DoesNotContain("read-12", output);
        Assert.Contains("12: Bad file descriptor", err.Result);
        Assert.Equal("host only\n", File.ReadAllText(secret));
    }

    private string Listen(string dir, string name)
    {
        string path = Path.Combine(dir, name);
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Bind(new UnixDomainSocketEndPoint(path));
        s.Listen(8);
        _servers.Add(s);
        return path;
    }

    private const string ConnectScript = """
        for s in "$@"; do python3 -c '
        import socket, sys
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(sys.argv[1]); print("connected")
        except OSError as e:
            print("refused", e.errno)
        ' "$s"; done
        """;

    [Theory]
    [InlineData("none")]
    [InlineData("host")]
    public void Listening_host_sockets_outside_run_are_not_reachable_unless_bound_explicitly(string net)
    {
        string service = Listen(_socketDir, "service.sock");
        string opened = Directory.CreateDirectory(Path.Combine(_socketDir, "opened")).FullName;
        string wanted = Listen(opened, "wanted.sock");
        var r = _p.Agent([.. (string[])["run", _p.StorePath, "--net", net, "--bind", opened, "--", "bash", "-c", ConnectScript, "connect", service, wanted]]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("refused 111\nconnected\n", r.Stdout); // 111: ECONNREFUSED (/dev/null is bound over it)
        Assert.True(File.Exists(service));                   // the host's socket is untouched
    }
}
