using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AgentFs.Sandbox;

/// <summary>
/// The HTTP(S) proxy of <c>--net allow=</c>. It accepts on a socket inside the sandbox's network namespace
/// (<see cref="SandboxNetworkNamespace"/>) and connects from this process, outside, to the destinations the allow
/// list names (<see cref="NetworkAllowList"/>: matching, and why an allowed name never leads to loopback or
/// link-local addresses). It speaks what HTTP_PROXY/HTTPS_PROXY clients speak:
/// <list type="bullet">
/// <item><c>CONNECT host:port</c>: a tunnel (HTTPS, or any TCP protocol through a client that tunnels); the bytes
///   are passed on untouched, TLS stays end to end;</item>
/// <item>a plain request with an absolute URI (<c>GET http://host[:port]/path</c>): sent on in origin form with
///   <c>Connection: close</c>, one request per connection (what follows on it goes to the same server).</item>
/// </list>
/// A refused request gets 403 and a one-line body saying why; a destination that cannot be resolved or does not
/// answer, 502. Each attempt is reported once (<see cref="NetworkAttempt"/>): at once when refused, at its end
/// (with the bytes it carried) when allowed. Resolution happens here, outside: the sandbox has no DNS.
/// </summary>
internal sealed class EgressProxy : IDisposable
{
    private const int HeaderLimit = 64 * 1024;
    private static readonly TimeSpan HeaderTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    private readonly Socket _listener;
    private readonly NetworkAllowList _allow;
    private readonly Action<NetworkAttempt>? _report;
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<Task> _active = [];
    private readonly Task _acceptLoop;
    private long _allowed, _refused;

    public EgressProxy(Socket listener, NetworkAllowList allow, Action<NetworkAttempt>? report)
    {
        _listener = listener;
        _allow = allow;
        _report = report;
        _acceptLoop = Task.Run(AcceptLoop);
    }

    /// <summary>Connections allowed so far (made or failed to connect).</summary>
    public long Allowed => Interlocked.Read(ref _allowed);

    /// <summary>Connections refused so far.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { return; }
            catch (SocketException) { continue; }
            var task = Task.Run(() => Serve(client));
            lock (_active) _active.Add(task);
            _ = task.ContinueWith(t => { lock (_active) _active.Remove(t); }, TaskScheduler.Default);
        }
    }

    private async Task Serve(Socket client)
    {
        byte[] head = ArrayPool<byte>.Shared.Rent(HeaderLimit);
        Socket? upstream = null;
        IPEndPoint? connected = null;
        string method = "?", host = "?";
        int port = 0;
        try
        {
            // The request head: up to the empty line.
            int length = 0, end;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                timeout.CancelAfter(HeaderTimeout);
                while ((end = HeadEnd(head.AsSpan(0, length))) < 0)
                {
                    if (length == HeaderLimit) { await Refuse(client, 431, "Request Header Fields Too Large", "the request head is larger than 64 KiB"); return; }
                    int n = await client.ReceiveAsync(head.AsMemory(length, HeaderLimit - length), timeout.Token);
                    if (n == 0) return;
                    length += n;
                }
            }
            string text = Encoding.Latin1.GetString(head, 0, end);
            int lineEnd = text.IndexOf("\r\n", StringComparison.Ordinal);
            string[] line = text[..lineEnd].Split(' ');
            if (line.Length != 3 || !line[2].StartsWith("HTTP/", StringComparison.Ordinal))
            {
                await RefuseAndReport(client, 400, "Bad Request", method, host, port, "not an HTTP proxy request");
                return;
            }
            method = line[0];
            string target = line[1], origin = "";
            bool tunnel = method == "CONNECT";
            if (tunnel)
            {
                if (!NetworkAllowList.TrySplitHostPort(target, out host, out int? p) || p is null || host.Length == 0)
                {
                    await RefuseAndReport(client, 400, "Bad Request", method, target, 0, "CONNECT needs HOST:PORT");
                    return;
                }
                port = p.Value;
            }
            else
            {
                if (!target.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
                {
                    await RefuseAndReport(client, 400, "Bad Request", method, target, 0,
                        "a proxy request names an absolute http:// URI (https goes through CONNECT: set HTTPS_PROXY)");
                    return;
                }
                string rest = target[7..];
                int slash = rest.IndexOfAny(['/', '?', '#']);
                string authority = slash < 0 ? rest : rest[..slash];
                origin = slash < 0 ? "/" : rest[slash] == '/' ? rest[slash..] : "/" + rest[slash..];
                if (authority.Contains('@') || !NetworkAllowList.TrySplitHostPort(authority, out host, out int? p) || host.Length == 0)
                {
                    await RefuseAndReport(client, 400, "Bad Request", method, authority, 0, "the URI names no usable HOST[:PORT]");
                    return;
                }
                port = p ?? 80;
            }
            if (host.StartsWith('[')) host = host[1..^1];

            if (!_allow.Allows(host, port))
            {
                await RefuseAndReport(client, 403, "Forbidden", method, host, port, $"not in this sandbox's --net allow={_allow}");
                return;
            }

            // Where to connect: the address itself, or what the name resolves to, minus this machine's and its link's.
            IPAddress[] candidates;
            if (NetworkAllowList.IsAddressLiteral(host, out var literal)) candidates = [literal];
            else
            {
                IPAddress[] all;
                try { all = await Dns.GetHostAddressesAsync(host, _stop.Token); }
                catch (SocketException e)
                {
                    await Fail(client, method, host, port, $"cannot resolve {host} ({e.Message})");
                    return;
                }
                candidates = all.Where(a => !NetworkAllowList.IsInternal(a)).ToArray();
                if (candidates.Length == 0)
                {
                    string addresses = all.Length == 0 ? "no address" : string.Join(' ', all.Select(a => a.ToString()));
                    await RefuseAndReport(client, 403, "Forbidden", method, host, port,
                        $"{host} resolves to {addresses}, on this machine or its link, which a name never opens; to reach it, allow the address itself");
                    return;
                }
            }
            string? lastError = null;
            foreach (var address in candidates)
            {
                var s = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(ConnectTimeout);
                try
                {
                    var endpoint = new IPEndPoint(address, port);
                    await s.ConnectAsync(endpoint, timeout.Token);
                    upstream = s;
                    connected = endpoint;
                    break;
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    s.Dispose();
                    lastError = e is SocketException se ? $"{address}: {se.Message}" : $"{address}: no answer in {ConnectTimeout.TotalSeconds:0} s";
                    if (_stop.IsCancellationRequested) break;
                }
            }
            if (upstream == null)
            {
                await Fail(client, method, host, port, lastError ?? "no address");
                return;
            }

            long sent = 0;
            if (tunnel)
                await client.SendAsync("HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray(), _stop.Token);
            else
            {
                byte[] rewritten = Encoding.Latin1.GetBytes(OriginRequest(line, origin, text[(lineEnd + 2)..]));
                await upstream.SendAsync(rewritten, _stop.Token);
                sent += rewritten.Length;
            }
            if (length > end)
            {
                await upstream.SendAsync(head.AsMemory(end, length - end), _stop.Token);
                sent += length - end;
            }
            ArrayPool<byte>.Shared.Return(head);
            head = [];

            using var connection = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var up = Pump(client, upstream, connection);
            var down = Pump(upstream, client, connection);
            await Task.WhenAll(up, down);
            Report(new NetworkAttempt(DateTimeOffset.Now, method, host, port, true, connected!.ToString(),
                sent + up.Result, down.Result, _stop.IsCancellationRequested ? "cut when the sandbox ended" : null));
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The client or the server went away, or the sandbox ended, between the decision (refusals, failures and
            // the pumps report and catch their own errors; port is set just before it) and the exchange: one line.
            if (port != 0)
                Report(new NetworkAttempt(DateTimeOffset.Now, method, host, port, true, connected?.ToString(), 0, 0,
                    $"ended before any data ({e.GetType().Name.Replace("Exception", "")})"));
        }
        finally
        {
            if (head.Length > 0) ArrayPool<byte>.Shared.Return(head);
            upstream?.Dispose();
            client.Dispose();
        }
    }

    /// <summary>The request line in origin form and the headers, without the hop-by-hop ones of the proxy leg.</summary>
    private static string OriginRequest(string[] line, string origin, string headers)
    {
        var sb = new StringBuilder().Append(line[0]).Append(' ').Append(origin).Append(' ').Append(line[2]).Append("\r\n");
        foreach (string h in headers.Split("\r\n"))
        {
            if (h.Length == 0) continue;
            int colon = h.IndexOf(':');
            string name = colon < 0 ? h : h[..colon].Trim();
            if (name.Equals("Proxy-Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase))
                continue;
            sb.Append(h).Append("\r\n");
        }
        return sb.Append("Connection: close\r\n\r\n").ToString();
    }

    /// <summary>Copies until end of file (then half-closes the other side) or an error (then ends both directions).</summary>
    private static async Task<long> Pump(Socket from, Socket to, CancellationTokenSource connection)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        long total = 0;
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer.AsMemory(), connection.Token)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, n), connection.Token);
                total += n;
            }
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            connection.Cancel();
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
        return total;
    }

    /// <summary>Where the head ends (just past CRLF CRLF), or -1.</summary>
    private static int HeadEnd(ReadOnlySpan<byte> data)
    {
        int i = data.IndexOf("\r\n\r\n"u8);
        return i < 0 ? -1 : i + 4;
    }

    private async Task RefuseAndReport(Socket client, int code, string status, string method, string host, int port, string reason)
    {
        Report(new NetworkAttempt(DateTimeOffset.Now, method, host, port, false, null, 0, 0, reason));
        await Refuse(client, code, status, reason);
    }

    private async Task Fail(Socket client, string method, string host, int port, string reason)
    {
        Report(new NetworkAttempt(DateTimeOffset.Now, method, host, port, true, null, 0, 0, reason));
        await Refuse(client, 502, "Bad Gateway", reason);
    }

    private async Task Refuse(Socket client, int code, string status, string reason)
    {
        byte[] body = Encoding.UTF8.GetBytes($"agentfs: {reason}\n");
        byte[] response = Encoding.UTF8.GetBytes(
            $"HTTP/1.1 {code} {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        try
        {
            await client.SendAsync(response.Concat(body).ToArray(), _stop.Token);
            client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException) { }
    }

    private void Report(NetworkAttempt attempt)
    {
        Interlocked.Increment(ref attempt.Allowed ? ref _allowed : ref _refused);
        try { _report?.Invoke(attempt); }
        catch (Exception) { } // a failing log must not take the connection (or agentfs run) down
    }

    /// <summary>Stops accepting, cuts the connections still open and waits (briefly) until each is reported.</summary>
    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _listener.Dispose();
        Task[] open;
        lock (_active) open = [.. _active];
        try { Task.WaitAll([_acceptLoop, .. open], TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { }
    }
}
