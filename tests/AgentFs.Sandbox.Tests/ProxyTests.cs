using System.Security.Cryptography;

namespace AgentFs.Sandbox.Tests;

/// <summary>
/// --net allow=: the sandbox reaches the host only through the proxy of agentfs run, and the proxy only the
/// destinations listed. The test servers listen on the host's 127.0.0.1, which the sandbox's own loopback is not:
/// only the proxy reaches them. NO_PROXY names the sandbox's loopback, so the scripts clear it to send requests
/// for the host's 127.0.0.1 to the proxy.
/// </summary>
public sealed class ProxyTests : IDisposable
{
    private readonly SandboxProject _p = new();
    private readonly LoopbackHttpServer _one = new(RandomNumberGenerator.GetBytes(300_000));
    private readonly LoopbackHttpServer _two = new("the other server\n"u8.ToArray());
    private readonly string _out;

    public ProxyTests()
    {
        _out = _p.PathIn("out");
        Directory.CreateDirectory(_out);
    }

    public void Dispose()
    {
        _one.Dispose();
        _two.Dispose();
        _p.Dispose();
    }

    private const string HttpCode = "%{http_code}";

    private string Log => File.Exists(_p.StorePath + ".log") ? File.ReadAllText(_p.StorePath + ".log") : "";

    private RunResult RunAllowingOne(string script, string allow = "") =>
        _p.RunScript("unset NO_PROXY no_proxy\n" + script, "--net", allow.Length > 0 ? allow : $"allow=127.0.0.1:{_one.Port}", "--bind", _out);

    [Fact]
    public void Plain_http_reaches_the_allowed_server_byte_for_byte_and_the_other_is_refused_both_logged()
    {
        var r = RunAllowingOne($"""
            curl -sS -o {_out}/one.bin http://127.0.0.1:{_one.Port}/data?x=1; echo "one $?"
            curl -sS -o {_out}/two.txt -w '{HttpCode}' http://127.0.0.1:{_two.Port}/data; echo " two $?"
            """);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("one 0\n403 two 0\n", r.Stdout);
        Assert.Equal(_one.Body, File.ReadAllBytes(Path.Combine(_out, "one.bin")));
        Assert.Equal(["GET /data?x=1 HTTP/1.1"], _one.Requests); // origin form: the proxy rewrote the absolute URI
        Assert.Empty(_two.Requests);                              // refused before any connection
        Assert.Equal($"agentfs: not in this sandbox's --net allow=127.0.0.1:{_one.Port}\n", File.ReadAllText(Path.Combine(_out, "two.txt")));

        string log = Log;
        Assert.Matches($@"net: branch main: allowed GET 127\.0\.0\.1:{_one.Port} \(127\.0\.0\.1:{_one.Port}\): \d+ bytes sent, (\d+) received", log);
        long received = long.Parse(System.Text.RegularExpressions.Regex.Match(log, @"bytes sent, (\d+) received").Groups[1].Value);
        Assert.True(received > _one.Body.Length, log);
        Assert.Contains($"net: branch main: refused GET 127.0.0.1:{_two.Port}: not in this sandbox's --net allow=127.0.0.1:{_one.Port}", log);
        Assert.Contains("agentfs: network: 1 connection allowed, 1 refused (each in " + _p.StorePath + ".log)", r.Stderr);
    }

    [Fact]
    public void Connect_tunnels_to_the_allowed_server_untouched_and_refuses_the_other()
    {
        var r = RunAllowingOne($"""
            curl -sS --proxytunnel -o {_out}/one.bin http://127.0.0.1:{_one.Port}/tunnelled; echo "one $?"
            curl -sS --proxytunnel -o /dev/null http://127.0.0.1:{_two.Port}/; echo "two $?"
            """);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("one 0\ntwo 56\n", r.Stdout); // 56: curl's "CONNECT tunnel failed, response 403"
        Assert.Contains("response 403", r.Stderr);
        Assert.Equal(_one.Body, File.ReadAllBytes(Path.Combine(_out, "one.bin")));
        Assert.Equal(["GET /tunnelled HTTP/1.1"], _one.Requests);
        Assert.Empty(_two.Requests);
        Assert.Contains($"allowed CONNECT 127.0.0.1:{_one.Port} (127.0.0.1:{_one.Port})", Log);
        Assert.Contains($"refused CONNECT 127.0.0.1:{_two.Port}", Log);
    }

    [Fact]
    public void Https_goes_through_connect_end_to_end()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.Now.AddDays(-1), DateTimeOffset.Now.AddDays(1));
        using var secure = new LoopbackHttpServer(RandomNumberGenerator.GetBytes(100_000), certificate);
        // HTTPS_PROXY as set inside: curl sends CONNECT, then TLS with the server through the tunnel (-k: self-signed).
        var r = RunAllowingOne($"curl -sSk -o {_out}/secure.bin https://127.0.0.1:{secure.Port}/secure; echo \"curl $?\"",
            $"allow=127.0.0.1:{secure.Port}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("curl 0\n", r.Stdout);
        Assert.Equal(secure.Body, File.ReadAllBytes(Path.Combine(_out, "secure.bin")));
        Assert.Equal(["GET /secure HTTP/1.1"], secure.Requests); // decrypted by the server only: the tunnel passed TLS through
        Assert.Matches($@"allowed CONNECT 127\.0\.0\.1:{secure.Port} \(127\.0\.0\.1:{secure.Port}\): \d+ bytes sent, \d+ received", Log);
    }

    [Fact]
    public void A_refused_request_with_a_body_still_gets_its_403()
    {
        var r = RunAllowingOne($"""
            head -c 3000000 /dev/zero > /tmp/big
            curl -sS -o /dev/null -w '{HttpCode}\n' -H 'Expect:' --data-binary @/tmp/big http://127.0.0.1:{_two.Port}/upload
            """);
        Assert.Equal("403\n", r.Stdout);
        Assert.Empty(_two.Requests);
        Assert.Contains($"refused POST 127.0.0.1:{_two.Port}", Log);
    }

    [Fact]
    public void Without_the_proxy_nothing_outside_is_reachable_not_even_an_allowed_server()
    {
        var r = RunAllowingOne($"""
            curl -sS --noproxy '*' -o /dev/null http://127.0.0.1:{_one.Port}/; echo "curl $?"
            (exec 3<>/dev/tcp/127.0.0.1/{_one.Port}) 2>/dev/null && echo reached || echo unreachable
            getent hosts example.com >/dev/null && echo resolved || echo "no dns"
            """);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("curl 7\nunreachable\nno dns\n", r.Stdout);
        Assert.Empty(_one.Requests);
        Assert.DoesNotContain("net: ", Log);
        Assert.Contains("agentfs: network: 0 connections allowed, 0 refused", r.Stderr);
    }

    [Fact]
    public void An_allowed_name_that_resolves_to_loopback_is_refused_the_address_itself_is_not()
    {
        var r = RunAllowingOne($"""
            curl -sS -o {_out}/body.txt -w '{HttpCode}\n' http://localhost:{_one.Port}/by-name
            curl -sS -o /dev/null -w '{HttpCode}\n' http://127.0.0.1:{_one.Port}/by-address
            """, $"allow=localhost:{_one.Port},127.0.0.1:{_one.Port}");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("403\n200\n", r.Stdout);
        Assert.Contains("localhost resolves to 127.0.0.1", File.ReadAllText(Path.Combine(_out, "body.txt")));
        Assert.Equal(["GET /by-address HTTP/1.1"], _one.Requests);
        Assert.Contains($"refused GET localhost:{_one.Port}: localhost resolves to 127.0.0.1", Log);
    }

    [Fact]
    public void The_sandboxs_own_loopback_is_reached_directly_through_no_proxy()
    {
        // NO_PROXY as set inside: a server started in the sandbox is reached without the proxy (and unlogged).
        var r = _p.RunScript("""
            echo served > /tmp/f; cd /tmp && python3 -m http.server 18099 --bind 127.0.0.1 >/dev/null 2>&1 &
            for i in $(seq 50); do curl -s http://127.0.0.1:18099/f && break; sleep 0.1; done
            kill %1
            """, "--net", $"allow=127.0.0.1:{_one.Port}");
        Assert.Equal("served\n", r.Stdout);
        Assert.DoesNotContain("net: ", Log);
    }

    [Theory]
    [InlineData("allow=", "names no destination")]
    [InlineData("allow=a:b:c", "'a:b:c' is not HOST[:PORT]")]
    [InlineData("allow=example.com:99999", "'example.com:99999' is not HOST[:PORT]")]
    [InlineData("allow=exa mple.com", "'exa mple.com' is not HOST[:PORT]")]
    [InlineData("wifi", "--net 'wifi' is not none, host or allow=")]
    public void A_bad_net_option_is_one_line_and_runs_nothing(string net, string message)
    {
        _p.RunScript("touch ran", "--net", net).IsUserError(message);
        Assert.False(File.Exists(Path.Combine(_p.BaseDir, "ran")));
        Assert.False(File.Exists(_p.StorePath + ".log"));
    }
}
