using System.Net;

namespace AgentFs.Sandbox.Tests;

/// <summary>The matching rules of --net allow= (NetworkAllowList), without a sandbox.</summary>
public sealed class NetworkAllowListTests
{
    [Theory]
    [InlineData("example.com", "example.com", 443, true)]
    [InlineData("example.com", "EXAMPLE.com.", 80, true)]        // case and a trailing dot do not matter
    [InlineData("example.com", "example.com", 8080, false)]      // no port: 80 and 443 only
    [InlineData("example.com", "api.example.com", 443, false)]   // a name is itself only
    [InlineData("example.com:8443", "example.com", 8443, true)]
    [InlineData("example.com:8443", "example.com", 443, false)]
    [InlineData("*.example.com", "api.example.com", 443, true)]
    [InlineData("*.example.com", "a.b.example.com", 80, true)]
    [InlineData("*.example.com", "example.com", 443, false)]     // the wildcard is below the name, not the name
    [InlineData("*.example.com", "badexample.com", 443, false)]
    [InlineData("10.0.0.5:5432", "10.0.0.5", 5432, true)]
    [InlineData("127.0.0.1:80", "127.1", 80, true)]              // the same address, written another way
    [InlineData("127.0.0.1:80", "localhost", 80, false)]         // a name does not match an address
    [InlineData("localhost:80", "127.0.0.1", 80, false)]         // nor an address a name
    [InlineData("[::1]:8080", "[::1]", 8080, true)]
    [InlineData("[::1]:8080", "::1", 8080, true)]
    [InlineData("[::1]:8080", "::ffff:127.0.0.1", 8080, false)]
    [InlineData("127.0.0.1:8080", "::ffff:127.0.0.1", 8080, true)] // IPv4-mapped is the IPv4 address
    [InlineData("a.com,b.com:81", "b.com", 81, true)]
    public void Matches(string list, string host, int port, bool allowed) =>
        Assert.Equal(allowed, NetworkAllowList.Parse(list).Allows(host, port));

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.1", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::", true)]
    [InlineData("169.254.169.254", true)] // cloud metadata
    [InlineData("fe80::1", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("10.1.2.3", false)]       // private networks are company services: allowed by name
    [InlineData("192.168.1.1", false)]
    [InlineData("93.184.215.14", false)]
    [InlineData("2606:2800:21f:cb07:6820:80da:af6b:8b2c", false)]
    public void Internal_addresses(string address, bool isInternal) =>
        Assert.Equal(isInternal, NetworkAllowList.IsInternal(IPAddress.Parse(address)));

    [Theory]
    [InlineData("")]
    [InlineData(" , ")]
    [InlineData("host:")]
    [InlineData("host:0")]
    [InlineData("::1")]          // IPv6 needs brackets
    [InlineData("*.")]
    [InlineData("a*.example.com")]
    [InlineData("http://example.com")]
    public void Bad_lists_are_refused_with_one_line(string list)
    {
        var e = Assert.Throws<AgentFsException>(() => NetworkAllowList.Parse(list));
        Assert.DoesNotContain("\n", e.Message);
        Assert.Contains("--net allow", e.Message);
    }
}
