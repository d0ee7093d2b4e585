using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentFs.Native;

namespace AgentFs.Control;

/// <summary>
/// The typed client of the process holding a branch (see <see cref="ControlServer"/>, which documents the wire
/// format: one JSON object per line each way). It asks the holder to commit, checkpoint or roll back its branch;
/// the JSON stays in here. Before a byte of a request leaves, it checks who listens: the server's uid
/// (SO_PEERCRED) must be ours or root's (or, for a root client, the holder's), so a socket someone else planted
/// gets nothing.
/// </summary>
internal sealed class ControlClient
{
    /// <summary>How long a send or a reply may take (5 minutes: a checkpoint commits the holder's pending writes).</summary>
    private const int TimeoutMs = 5 * 60 * 1000;

    /// <summary>The longest reply accepted (the server's replies are a few hundred bytes).</summary>
    private const int MaxReplyBytes = 1 << 20;

    private readonly string _storePath, _storeId, _branch;
    private readonly int _holderPid;

    /// <param name="holderPid">The process that holds the branch (its lease, or the sandbox's launcher).</param>
    public ControlClient(string storePath, string storeId, string branch, int holderPid)
    {
        _storePath = storePath;
        _storeId = storeId;
        _branch = branch;
        _holderPid = holderPid;
    }

    /// <summary>Makes the holder commit its pending changes durably, so the store file shows them.</summary>
    public void Commit() => Send(new JsonObject { ["op"] = "commit" });

    /// <summary>Makes the holder seal its branch as a checkpoint; returns the checkpoint's id.</summary>
    public long Checkpoint(string? message, IReadOnlyDictionary<string, string>? meta) =>
        RequestCheckpoint(message, meta, ifChanged: false)!.Value;

    /// <summary>Makes the holder seal its branch as a checkpoint if it changed since the last one (request field
    /// "if_changed": true); returns the checkpoint's id, or null when nothing changed.</summary>
    public long? CheckpointIfChanged(string? message, IReadOnlyDictionary<string, string>? meta) =>
        RequestCheckpoint(message, meta, ifChanged: true);

    /// <summary>The checkpoint request; a null id in the reply is an answer only to "if_changed".</summary>
    private long? RequestCheckpoint(string? message, IReadOnlyDictionary<string, string>? meta, bool ifChanged)
    {
        var request = new JsonObject { ["op"] = "checkpoint", ["message"] = message };
        if (ifChanged) request["if_changed"] = true;
        if (meta != null)
        {
            var m = new JsonObject();
            foreach (var (k, v) in meta) m[k] = v;
            request["meta"] = m;
        }
        var reply = Send(request);
        if (ifChanged && reply.ContainsKey("id") && reply["id"] is null) return null;
        return reply["id"] is JsonValue id && id.TryGetValue(out long n) ? n
            : throw new AgentFsException(Errno.EIO, $"{HolderName} answered a checkpoint request without the checkpoint's id");
    }

    /// <summary>Makes the holder roll its branch back to a checkpoint of its history.</summary>
    public void Rollback(long checkpointId) => Send(new JsonObject { ["op"] = "rollback", ["checkpoint"] = checkpointId });

    private string HolderName => $"the process holding branch {_branch} of store {_storePath}";

    /// <summary>Sends a request to the holder; returns its reply or throws one line that says why the holder
    /// cannot be asked.</summary>
    private JsonObject Send(JsonObject request)
    {
        uint euid = LibC.geteuid();
        string holder = $"process {_holderPid} ({ProcessNames.Get(_holderPid)})";
        uint? holderUid = ProcessUid(_holderPid);
        if (holderUid is uint other && other != euid && euid != 0)
        {
            string owner = UserName(other);
            throw new AgentFsException(Errno.EPERM,
                $"branch {_branch} of store {_storePath} is held by {holder} of user {owner} (uid {other}); only {(other == 0 ? "root" : owner + " or root")} can checkpoint, roll back or commit it (you are {UserName(euid)})");
        }

        var refused = new List<string>();
        foreach (string dir in ControlPaths.CandidatesFor(holderUid ?? euid, Environment.GetEnvironmentVariable, euid))
        {
            string socket = Path.Combine(dir, ControlPaths.SocketName(_storeId, _branch));
            if (!File.Exists(socket)) continue;
            if (ControlPaths.Problem(dir, holderUid ?? euid) is { } problem)
            {
                refused.Add($"{dir} {problem}");
                continue;
            }
            if (TrySendTo(socket, HolderName, holderUid ?? euid, request) is { } reply)
                return reply;
        }
        string why = refused.Count == 0 ? "" : $" (its runtime directory was refused: {string.Join("; ", refused)})";
        throw new AgentFsException(Errno.EBUSY,
            $"branch {_branch} of store {_storePath} is open for writing by {holder}, which does not accept control requests{why}; stop it first");
    }

    /// <summary>The reply of the server at <paramref name="socketPath"/>, or null when nothing listens there.
    /// Throws when the server is not run by us, root, or (for a root client) <paramref name="holderUid"/>.</summary>
    internal static JsonObject? TrySendTo(string socketPath, string holderName, uint holderUid, JsonObject request)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { s.Connect(new UnixDomainSocketEndPoint(socketPath)); }
        catch (SocketException) { return null; } // a stale socket of a dead holder
        uint euid = LibC.geteuid();
        uint serverUid = PeerUid(s);
        if (serverUid != euid && serverUid != 0 && !(euid == 0 && serverUid == holderUid))
            throw new AgentFsException(Errno.EACCES,
                $"control socket {socketPath} is served by uid {serverUid}, not by you (uid {euid}) or root; the request was not sent: remove that socket, someone may be impersonating the holder");
        s.ReceiveTimeout = TimeoutMs;
        s.SendTimeout = TimeoutMs;
        try
        {
            byte[] line = Encoding.UTF8.GetBytes(request.ToJsonString());
            try
            {
                s.Send(line);
                s.Send("\n"u8);
            }
            catch (SocketException) { /* a server that refuses us answers and closes without reading: read its reason */ }
            byte[]? reply = ReadLine(s);
            if (reply == null)
                throw new AgentFsException(Errno.EIO, $"{holderName} closed the control connection without an answer");
            JsonObject obj;
            try { obj = JsonNode.Parse(reply) as JsonObject ?? throw new JsonException("not an object"); }
            catch (JsonException e) { throw new AgentFsException(Errno.EIO, $"{holderName} sent an unreadable control reply ({e.Message})"); }
            if (obj["ok"] is JsonValue ok && ok.TryGetValue(out bool isOk) && isOk) return obj;
            int errno = obj["errno"] is JsonValue ev && ev.TryGetValue(out int n) && n > 0 ? n : Errno.EIO;
            string error = obj["error"] is JsonValue mv && mv.TryGetValue(out string? m) && m != null ? m : "control request failed";
            throw new AgentFsException(errno, error);
        }
        catch (SocketException e)
        {
            throw new AgentFsException(Errno.EIO, $"{holderName} did not answer ({e.Message})");
        }
    }

    /// <summary>Reads one reply line (without the newline), or null when the connection ends first.</summary>
    private static byte[]? ReadLine(Socket s)
    {
        var buffer = new byte[4096];
        int used = 0;
        while (true)
        {
            int newline = buffer.AsSpan(0, used).IndexOf((byte)'\n');
            if (newline >= 0) return buffer[..newline];
            if (used == buffer.Length)
            {
                if (used >= MaxReplyBytes) throw new AgentFsException(Errno.EIO, $"control reply longer than {MaxReplyBytes} bytes");
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            int n = s.Receive(buffer, used, buffer.Length - used, SocketFlags.None);
            if (n == 0) return null;
            used += n;
        }
    }

    /// <summary>The uid of the process at the other end of a connected Unix socket (SO_PEERCRED).</summary>
    internal static uint PeerUid(Socket s)
    {
        const int SOL_SOCKET = 1, SO_PEERCRED = 17;
        Span<byte> cred = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        s.GetRawSocketOption(SOL_SOCKET, SO_PEERCRED, cred);
        return BitConverter.ToUInt32(cred[4..8]);
    }

    /// <summary>The effective uid of a process (from /proc/PID/status), or null when it cannot be read.</summary>
    private static uint? ProcessUid(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    var fields = line.Split('\t', StringSplitOptions.RemoveEmptyEntries);
                    return fields.Length > 2 && uint.TryParse(fields[2], out uint uid) ? uid : null;
                }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>The user name of a uid from /etc/passwd, or "uid N".</summary>
    internal static string UserName(uint uid)
    {
        try
        {
            foreach (string line in File.ReadLines("/etc/passwd"))
            {
                var f = line.Split(':');
                if (f.Length > 2 && uint.TryParse(f[2], out uint u) && u == uid) return f[0];
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return $"uid {uid}";
    }
}
