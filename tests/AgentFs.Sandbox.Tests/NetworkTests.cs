using System.Net;
using System.Net.Sockets;

namespace AgentFs.Sandbox.Tests;

/// <summary>--net none: loopback of its own, nothing of the host's; --net host: the host's network.</summary>
public sealed class NetworkTests : IDisposable
{
    private readonly SandboxProject _p = new();
    private readonly TcpListener _hostServer = new(IPAddress.Loopback, 0);

    public NetworkTests() => _hostServer.Start();

    public void Dispose()
    {
        _hostServer.Stop();
        _p.Dispose();
    }

    private int HostPort => ((IPEndPoint)_hostServer.LocalEndpoint).Port;

    private const string LoopbackSelfTest = """
        python3 -c '
        import socket
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
        c = socket.create_connection(s.getsockname(), timeout=5); a, _ = s.accept(); c.send(b"ok"); print(a.recv(2).decode())
        '
        """;

    [Fact]
    public void None_is_the_default_loopback_works_and_the_hosts_loopback_server_is_unreachable()
    {
        var r = _p.RunScript(LoopbackSelfTest + $"\n(exec 3<>/dev/tcp/127.0.0.1/{HostPort}) 2>/dev/null && echo reached || echo unreachable");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("ok\nunreachable\n", r.Stdout);
        Assert.False(_hostServer.Pending());
    }

    [Fact]
    public void Host_shares_the_hosts_network()
    {
        var r = _p.RunScript(LoopbackSelfTest + $"\n(exec 3<>/dev/tcp/127.0.0.1/{HostPort}) && echo reached || echo unreachable", "--net", "host");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("ok\nreached\n", r.Stdout);
        Assert.True(SandboxProject.Eventually(() => _hostServer.Pending(), 5000));
    }
}
