namespace AgentFs.Sandbox.Tests;

/// <summary>
/// `agentfs run --net allow=` as an ordinary user: the launcher makes the network namespace with the user
/// namespace, a helper process listens in it, and the proxy of agentfs run, outside, reaches only what the list
/// names, as when it runs as root (ProxyTests). The test servers listen on the host's 127.0.0.1, which the
/// sandbox's own loopback is not.
/// </summary>
public sealed class UnprivilegedNetworkTests : IDisposable
{
    private readonly SandboxProject _p = new();
    private readonly TestUser _user;
    private readonly LoopbackHttpServer _one = new(System.Security.Cryptography.RandomNumberGenerator.GetBytes(200_000));
    private readonly LoopbackHttpServer _two = new("the other server\n"u8.ToArray());

    public UnprivilegedNetworkTests()
    {
        try { _user = new TestUser(_p.Root); }
        catch { _p.Dispose(); _one.Dispose(); _two.Dispose(); throw; }
    }

    public void Dispose()
    {
        _one.Dispose();
        _two.Dispose();
        try { _user.Dispose(); }
        finally { _p.Dispose(); }
    }

    [Fact]
    public void Without_root_allow_reaches_the_listed_server_through_the_proxy_and_nothing_else_all_logged()
    {
        _user.GrantFuseDevice();
        string baseHash = SandboxProject.TreeHash(_p.BaseDir);
        var r = _user.Agent(_p.BaseDir, "run", _p.StorePath, "--net", $"allow=127.0.0.1:{_one.Port}", "--", "bash", "-c", $"""
            unset NO_PROXY no_proxy
            echo "uid $(id -u)"
            curl -sS -o one.bin http://127.0.0.1:{_one.Port}/data; echo "one $?"
            curl -sS -o /dev/null -w '%{"{"}http_code{"}"}' http://127.0.0.1:{_two.Port}/data; echo " two $?"
            curl -sS --noproxy '*' --max-time 5 -o /dev/null http://127.0.0.1:{_two.Port}/data 2>/dev/null; echo "direct $?"
            """);

        Assert.True(r.ExitCode == 0, r.ToString());
        // Through the proxy: the listed server byte for byte, the other refused (403) before any connection; and
        // without the proxy the host's loopback is not there at all (curl 7: connection refused).
        Assert.Equal($"uid {_user.Uid}\none 0\n403 two 0\ndirect 7\n", r.Stdout);
        Assert.Empty(_two.Requests);
        Assert.Single(_one.Requests);
        var cat = _user.Agent(_p.Root, "fs", _p.StorePath, "stat", "one.bin", "--json");
        Assert.Contains("\"size\": 200000", cat.Stdout);
        string log = File.ReadAllText(_p.StorePath + ".log");
        Assert.Contains($"net: branch main: allowed GET 127.0.0.1:{_one.Port}", log);
        Assert.Contains($"net: branch main: refused GET 127.0.0.1:{_two.Port}", log);
        Assert.Contains("agentfs: network: 1 connection allowed, 1 refused", r.Stderr);
        Assert.Equal(baseHash, SandboxProject.TreeHash(_p.BaseDir));
        // The helper is gone with the sandbox, and nothing of it stays.
        Assert.Empty(SandboxProject.ProcessesWith(SandboxNetworkHelper.Verb));
    }
}
