using System.Net;
using System.Net.Sockets;

namespace AgentFs.Sandbox;

/// <summary>
/// The destinations of <c>--net allow=HOST[:PORT],...</c>, and the rules by which the proxy checks a request:
/// <list type="bullet">
/// <item>a host name matches itself only (case-insensitive, a trailing dot ignored); <c>*.example.com</c> matches
///   every name below example.com (api.example.com, a.b.example.com) but not example.com itself;</item>
/// <item>an IP address (<c>10.0.0.5</c>, <c>[::1]</c>) matches a request for that address, written any way that
///   parses to it; a name never matches an address nor the other way round: what the command asked for is
///   what is checked;</item>
/// <item>without a port, an entry allows 80 and 443 (HTTP and HTTPS); with one, that port only.</item>
/// </list>
/// A name that is allowed is resolved outside the sandbox, and the proxy connects only to the addresses that
/// are not this machine's or its link's (<see cref="IsInternal"/>): loopback is where the host's own databases
/// and services listen, and link-local holds cloud metadata credentials, so a name (whose DNS may change under
/// us, or be someone else's: DNS rebinding) must not open them. To reach one of them, allow its address.
/// </summary>
public sealed class NetworkAllowList
{
    private readonly List<Entry> _entries;

    private NetworkAllowList(List<Entry> entries) => _entries = entries;

    private sealed record Entry(string Text, string? Name, string? Suffix, IPAddress? Address, int? Port);

    /// <summary>Parses "HOST[:PORT],..." (the part after <c>allow=</c>); one line naming the bad entry otherwise.</summary>
    public static NetworkAllowList Parse(string list)
    {
        var entries = new List<Entry>();
        foreach (string raw in list.Split(','))
        {
            string item = raw.Trim();
            if (item.Length == 0) continue;
            if (!TrySplitHostPort(item, out string host, out int? port) || host.Length == 0)
                throw Bad(item);
            if (IPAddress.TryParse(host, out var address) && (host.Contains(':') || IsDottedQuad(host)))
                entries.Add(new Entry(item, null, null, Normalize(address), port));
            else if (host.StartsWith("*.", StringComparison.Ordinal) && IsName(host[2..]))
                entries.Add(new Entry(item, null, "." + NormalizeName(host[2..]), null, port));
            else if (IsName(host))
                entries.Add(new Entry(item, NormalizeName(host), null, null, port));
            else throw Bad(item);
        }
        if (entries.Count == 0)
            throw new AgentFsException(Errno.EINVAL, "--net allow= names no destination; write e.g. --net allow=api.example.com,registry.npmjs.org:443");
        return new NetworkAllowList(entries);

        static AgentFsException Bad(string item) => new(Errno.EINVAL,
            $"--net allow: '{item}' is not HOST[:PORT]; write e.g. api.example.com, *.example.com:8443, 10.0.0.5:5432 or [::1]:80");
    }

    /// <summary>Whether a request for <paramref name="host"/> (as the command wrote it: a name or an address
    /// literal, IPv6 with or without brackets) and <paramref name="port"/> is allowed.</summary>
    public bool Allows(string host, int port)
    {
        string h = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        IPAddress? address = IPAddress.TryParse(h, out var a) ? Normalize(a) : null;
        string name = address == null ? NormalizeName(h) : "";
        foreach (var e in _entries)
        {
            if (e.Port is int p ? p != port : port is not (80 or 443)) continue;
            if (address != null ? address.Equals(e.Address)
                : e.Name == name || (e.Suffix != null && name.Length > e.Suffix.Length && name.EndsWith(e.Suffix, StringComparison.Ordinal)))
                return true;
        }
        return false;
    }

    /// <summary>Whether a request names an address rather than a name (then no resolution and no address filter).</summary>
    public static bool IsAddressLiteral(string host, out IPAddress address)
    {
        string h = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        bool ok = IPAddress.TryParse(h, out var a);
        address = ok ? Normalize(a!) : IPAddress.None;
        return ok;
    }

    /// <summary>
    /// Addresses of this machine or its link, which an allowed NAME never leads to: loopback (127/8, ::1),
    /// unspecified and "this network" (0/8, ::), link-local (169.254/16 with cloud metadata, fe80::/10), multicast
    /// and broadcast. Private networks (10/8, 172.16/12, 192.168/16, fc00::/7) are allowed: company services
    /// live there under their names.
    /// </summary>
    public static bool IsInternal(IPAddress address)
    {
        var a = Normalize(address);
        if (IPAddress.IsLoopback(a) || a.IsIPv6LinkLocal || a.IsIPv6Multicast) return true;
        if (a.AddressFamily == AddressFamily.InterNetworkV6) return a.Equals(IPAddress.IPv6Any);
        Span<byte> b = stackalloc byte[4];
        a.TryWriteBytes(b, out _);
        return b[0] == 0 || b[0] == 127 || (b[0] == 169 && b[1] == 254) || b[0] >= 224;
    }

    /// <summary>The list as <c>--net allow=</c> takes it: HOST[:PORT] entries separated by commas.</summary>
    public override string ToString() => string.Join(',', _entries.Select(e => e.Text));

    private static IPAddress Normalize(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    private static string NormalizeName(string name) => name.TrimEnd('.').ToLowerInvariant();

    // IPAddress.TryParse also takes "127.1" or "2130706433"; in the list, only the usual forms count as addresses.
    private static bool IsDottedQuad(string s) => s.Split('.') is { Length: 4 } parts && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit));

    private static bool IsName(string s) =>
        s.Length is > 0 and <= 253 && s.TrimEnd('.').Split('.').All(l => l.Length is > 0 and <= 63 && l.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));

    /// <summary>"host", "host:port", "[v6]", "[v6]:port"; port 1-65535.</summary>
    internal static bool TrySplitHostPort(string s, out string host, out int? port)
    {
        host = s;
        port = null;
        string? portText = null;
        if (s.StartsWith('['))
        {
            int close = s.IndexOf(']');
            if (close < 0) return false;
            host = s[1..close];
            if (close + 1 < s.Length)
            {
                if (s[close + 1] != ':') return false;
                portText = s[(close + 2)..];
            }
        }
        else
        {
            int colon = s.IndexOf(':');
            if (colon >= 0)
            {
                if (s.IndexOf(':', colon + 1) >= 0) return false; // a bare IPv6 address: write it in brackets
                host = s[..colon];
                portText = s[(colon + 1)..];
            }
        }
        if (portText != null)
        {
            if (!int.TryParse(portText, System.Globalization.NumberStyles.None, null, out int p) || p is < 1 or > 65535) return false;
            port = p;
        }
        return true;
    }
}
