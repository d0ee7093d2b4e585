using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentFs.Control;

/// <summary>
/// Serves control requests for one writable branch view over a Unix socket: one JSON object per line in,
/// one per line out. Requests: {"op":"ping"}, {"op":"commit"}, {"op":"checkpoint","message":..,"meta":{..}},
/// {"op":"rollback","checkpoint":N}. Replies: {"ok":true,...} or {"ok":false,"errno":N,"error":"one line"}.
/// The socket is created 0600 in the runtime directory; only the owner (or root) can send requests.
/// </summary>
internal sealed class ControlServer : IDisposable
{
    private readonly AgentFileSystem _fs;
    private readonly Socket _listener;
    private readonly Thread _thread;
    private volatile bool _stopping;

    public ControlServer(AgentFileSystem fs, string path)
    {
        _fs = fs;
        Path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        if (File.Exists(path)) File.Delete(path); // a stale socket of a dead holder (the lease said it is dead)
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(16);
        _thread = new Thread(AcceptLoop) { IsBackground = true, Name = "agentfs-control" };
        _thread.Start();
    }

    public string Path { get; }

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            Socket client;
            try { client = _listener.Accept(); }
            catch (Exception) { if (_stopping) return; continue; }
            var t = new Thread(() => Serve(client)) { IsBackground = true, Name = "agentfs-control-client" };
            t.Start();
        }
    }

    private void Serve(Socket client)
    {
        using var stream = new NetworkStream(client, ownsSocket: true);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
        try
        {
            string? line;
            while ((line = reader.ReadLine()) != null)
                writer.WriteLine(Handle(line).ToJsonString());
        }
        catch (Exception) { /* the client went away */ }
    }

    private JsonObject Handle(string line)
    {
        try
        {
            var req = JsonNode.Parse(line)?.AsObject() ?? throw new AgentFsException(Errno.EINVAL, "empty control request");
            string op = req["op"]?.GetValue<string>() ?? "";
            switch (op)
            {
                case "ping":
                    return new JsonObject { ["ok"] = true, ["pid"] = Environment.ProcessId, ["branch"] = _fs.Branch };
                case "commit":
                    _fs.Flush(durable: true);
                    return new JsonObject { ["ok"] = true };
                case "checkpoint":
                {
                    var meta = req["meta"] is JsonObject m ? m.ToDictionary(kv => kv.Key, kv => kv.Value?.GetValue<string>() ?? "") : null;
                    var cp = _fs.Checkpoint(req["message"]?.GetValue<string>(), meta);
                    return new JsonObject { ["ok"] = true, ["id"] = cp.Id, ["layer"] = cp.Layer, ["created_ms"] = cp.Created.ToUnixTimeMilliseconds() };
                }
                case "rollback":
                    _fs.Rollback(req["checkpoint"]!.GetValue<long>());
                    return new JsonObject { ["ok"] = true };
                default:
                    throw new AgentFsException(Errno.EINVAL, $"unknown control request '{op}'");
            }
        }
        catch (AgentFsException e)
        {
            return new JsonObject { ["ok"] = false, ["errno"] = e.Errno, ["error"] = e.Message };
        }
        catch (Exception e)
        {
            return new JsonObject { ["ok"] = false, ["errno"] = Errno.EIO, ["error"] = $"control request failed: {e.Message}" };
        }
    }

    public void Dispose()
    {
        _stopping = true;
        try { _listener.Dispose(); } catch (Exception) { }
        try { File.Delete(Path); } catch (Exception) { }
    }
}
