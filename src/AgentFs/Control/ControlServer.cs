using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentFs.Native;

namespace AgentFs.Control;

/// <summary>
/// Serves control requests for one writable branch view over a Unix socket: one JSON object per line in,
/// one per line out, UTF-8 only. Requests: {"op":"ping"}, {"op":"commit"},
/// {"op":"checkpoint","message":..,"meta":{..}} (with "if_changed":true, only when the branch changed since its last
/// checkpoint; else the reply's "id" is null), {"op":"rollback","checkpoint":N}.
/// Replies: {"ok":true,...} or {"ok":false,"errno":N,"error":"one line"}.
/// <para>
/// Trust: the socket is made 0600 before it is bound (fchmod of the unbound socket, which Linux gives the
/// file bind creates) inside a runtime directory that <see cref="ControlPaths"/> checked is ours alone, and
/// each connection's peer (SO_PEERCRED) must be our uid or root. The peer is still treated as untrusted
/// input: a request line is at most <see cref="MaxRequestBytes"/>, a connection that sends no complete
/// request for <see cref="DefaultIdleTimeout"/> is closed, at most <see cref="MaxConnections"/> are served at
/// once, and whatever arrives (bad UTF-8, bad JSON, wrong types) gets an error reply, never an exception
/// out of this class.
/// </para>
/// </summary>
internal sealed partial class ControlServer : IDisposable
{
    /// <summary>The longest request line (1 MiB): checkpoint messages and metadata are far smaller.</summary>
    public const int MaxRequestBytes = 1 << 20;

    /// <summary>How many connections are served at once; more get an error reply and are closed.</summary>
    public const int MaxConnections = 8;

    /// <summary>How long a connection may take to send a complete request line (after connecting, or after
    /// the previous reply) before it is closed: long enough for any client, short enough that idle
    /// connections do not pile up.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(30);

    private const int EMSGSIZE = 90, ETIMEDOUT = 110;

    private readonly AgentFileSystem _fs;
    private readonly Socket _listener;
    private readonly Thread _thread;
    private readonly TimeSpan _idleTimeout;
    private readonly uint _ownUid = LibC.geteuid();
    private int _connections;
    private volatile bool _stopping;

    /// <summary>Listens at <paramref name="path"/>, whose directory the caller has checked (<see cref="ControlPaths"/>).</summary>
    public ControlServer(AgentFileSystem fs, string path, TimeSpan? idleTimeout = null)
    {
        _fs = fs;
        _idleTimeout = idleTimeout ?? DefaultIdleTimeout;
        Path = path;
        if (File.Exists(path)) File.Delete(path); // a stale socket of a dead holder (the lease said it is dead)
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            // Linux creates the socket file with the mode of the unbound socket (less the umask), so the
            // file is 0600 from its first moment; a chmod by path afterwards would leave a window.
            if (fchmod((int)_listener.Handle, 0x180 /* 0600 */) != 0)
                throw new AgentFsException(Errno.EIO, $"cannot set the mode of control socket {path} ({Errno.Name(Marshal.GetLastPInvokeError())})");
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen(MaxConnections);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        _thread = new Thread(AcceptLoop) { IsBackground = true, Name = "agentfs-control" };
        _thread.Start();
    }

    public string Path { get; }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fchmod(int fd, uint mode);

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            Socket client;
            try { client = _listener.Accept(); }
            catch (Exception) { if (_stopping) return; continue; }
            try
            {
                uint peer = ControlClient.PeerUid(client);
                if (peer != _ownUid && peer != 0)
                {
                    Refuse(client, Errno.EACCES,
                        $"process {Environment.ProcessId} holding branch {_fs.Branch} of store {_fs.Store.Path} takes control requests only from uid {_ownUid} or root, not from uid {peer}");
                    continue;
                }
                if (Interlocked.Increment(ref _connections) > MaxConnections)
                {
                    Interlocked.Decrement(ref _connections);
                    Refuse(client, Errno.EAGAIN,
                        $"process {Environment.ProcessId} holding branch {_fs.Branch} of store {_fs.Store.Path} already serves {MaxConnections} control connections; try again");
                    continue;
                }
                var t = new Thread(() => Serve(client)) { IsBackground = true, Name = "agentfs-control-client" };
                t.Start();
            }
            catch (Exception) { client.Dispose(); }
        }
    }

    /// <summary>Answers with an error and closes, without reading (nothing the peer sends matters).</summary>
    private static void Refuse(Socket client, int errno, string message)
    {
        using (client)
        {
            client.SendTimeout = 1000;
            try { client.Send(Reply(Error(errno, message))); } catch (Exception) { }
        }
    }

    private void Serve(Socket client)
    {
        try
        {
            client.SendTimeout = (int)_idleTimeout.TotalMilliseconds;
            byte[] buffer = new byte[4096];
            int used = 0;
            long deadline = Environment.TickCount64 + (long)_idleTimeout.TotalMilliseconds;
            while (!_stopping)
            {
                int newline = buffer.AsSpan(0, used).IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    client.Send(Reply(Handle(buffer.AsSpan(0, newline))));
                    used -= newline + 1;
                    buffer.AsSpan(newline + 1, used).CopyTo(buffer);
                    deadline = Environment.TickCount64 + (long)_idleTimeout.TotalMilliseconds;
                    continue;
                }
                if (used > MaxRequestBytes)
                {
                    client.Send(Reply(Error(EMSGSIZE, $"control request longer than {MaxRequestBytes >> 20} MiB; closing the connection")));
                    return;
                }
                if (used == buffer.Length) Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxRequestBytes + 1));
                long remainingMs = deadline - Environment.TickCount64;
                if (remainingMs <= 0 || !client.Poll(TimeSpan.FromMilliseconds(remainingMs), SelectMode.SelectRead))
                {
                    client.Send(Reply(Error(ETIMEDOUT, $"no complete control request within {_idleTimeout.TotalSeconds:0.###} s; closing the connection")));
                    return;
                }
                int n = client.Receive(buffer, used, buffer.Length - used, SocketFlags.None);
                if (n == 0) return;
                used += n;
            }
        }
        catch (Exception) { /* the client went away */ }
        finally
        {
            client.Dispose();
            Interlocked.Decrement(ref _connections);
        }
    }

    private static byte[] Reply(JsonObject reply)
    {
        // JsonNode writes itself (no reflection: the published command is a Native AOT program).
        return Encoding.UTF8.GetBytes(reply.ToJsonString() + "\n");
    }

    private static JsonObject Error(int errno, string message) =>
        new() { ["ok"] = false, ["errno"] = errno, ["error"] = message };

    private JsonObject Handle(ReadOnlySpan<byte> line)
    {
        try
        {
            if (line.EndsWith("\r"u8)) line = line[..^1];
            JsonObject req;
            // The bytes are UTF-8 and nothing else: no byte order mark picks another encoding, and invalid
            // sequences are refused here (the parser would only notice inside strings when they are read).
            if (!System.Text.Unicode.Utf8.IsValid(line))
                throw new AgentFsException(Errno.EINVAL, "control request is not valid UTF-8");
            try { req = JsonNode.Parse(line) as JsonObject ?? throw new AgentFsException(Errno.EINVAL, "a control request is one JSON object per line"); }
            catch (Exception e) when (e is not AgentFsException) // JsonException, or the decoder's own for invalid UTF-8
            {
                throw new AgentFsException(Errno.EINVAL, $"control request is not a JSON object in UTF-8 ({e.Message})");
            }
            string op = OptionalString(req, "op") ?? throw new AgentFsException(Errno.EINVAL, "control request without \"op\"");
            switch (op)
            {
                case "ping":
                    return new JsonObject { ["ok"] = true, ["pid"] = Environment.ProcessId, ["branch"] = _fs.Branch };
                case "commit":
                    _fs.Flush(durable: true);
                    return new JsonObject { ["ok"] = true };
                case "checkpoint":
                {
                    // "if_changed": true (harness hooks): no checkpoint, and "id": null, when nothing changed since the last.
                    var cp = OptionalBool(req, "if_changed")
                        ? _fs.CheckpointIfChanged(OptionalString(req, "message"), Meta(req))
                        : _fs.Checkpoint(OptionalString(req, "message"), Meta(req));
                    if (cp == null) return new JsonObject { ["ok"] = true, ["id"] = null };
                    return new JsonObject { ["ok"] = true, ["id"] = cp.Id, ["layer"] = cp.Layer, ["created_ms"] = cp.Created.ToUnixTimeMilliseconds() };
                }
                case "rollback":
                    if (req["checkpoint"] is not JsonValue v || !v.TryGetValue(out long id))
                        throw new AgentFsException(Errno.EINVAL, "control request 'rollback' needs \"checkpoint\": an integer id");
                    _fs.Rollback(id);
                    return new JsonObject { ["ok"] = true };
                default:
                    throw new AgentFsException(Errno.EINVAL, $"unknown control request '{op}'");
            }
        }
        catch (AgentFsException e)
        {
            return Error(e.Errno, e.Message);
        }
        catch (Exception e)
        {
            return Error(Errno.EIO, $"control request failed: {e.Message}");
        }
    }

    private static string? OptionalString(JsonObject req, string name) => req[name] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => throw new AgentFsException(Errno.EINVAL, $"\"{name}\" of a control request must be a string"),
    };

    private static bool OptionalBool(JsonObject req, string name) => req[name] switch
    {
        null => false,
        JsonValue v when v.TryGetValue(out bool b) => b,
        _ => throw new AgentFsException(Errno.EINVAL, $"\"{name}\" of a control request must be true or false"),
    };

    private static Dictionary<string, string>? Meta(JsonObject req)
    {
        if (req["meta"] is null) return null;
        if (req["meta"] is not JsonObject m)
            throw new AgentFsException(Errno.EINVAL, "\"meta\" of a control request must be an object of strings");
        var meta = new Dictionary<string, string>(m.Count, StringComparer.Ordinal);
        foreach (var (key, value) in m)
            meta[key] = value is null ? "" : value is JsonValue v && v.TryGetValue(out string? s) && s != null ? s
                : throw new AgentFsException(Errno.EINVAL, $"\"meta\" value of '{key}' in a control request must be a string");
        return meta;
    }

    public void Dispose()
    {
        _stopping = true;
        try { _listener.Dispose(); } catch (Exception) { }
        try { File.Delete(Path); } catch (Exception) { }
    }
}
