using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace AgentFs.Control;

/// <summary>Sends one control request to the process holding a branch (see <see cref="ControlServer"/>).</summary>
internal static class ControlClient
{
    /// <summary>How long a send or a reply may take (5 minutes).</summary>
    private const int TimeoutMs = 5 * 60 * 1000;

    /// <summary>The reply, or null when no process listens for this branch.</summary>
    public static JsonObject? TrySend(string storePath, string storeId, string branch, JsonObject request)
    {
        string path = ControlPaths.SocketFor(storeId, branch);
        if (!File.Exists(path)) return null;
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { s.Connect(new UnixDomainSocketEndPoint(path)); }
        catch (SocketException) { return null; }
        s.ReceiveTimeout = TimeoutMs;
        s.SendTimeout = TimeoutMs;
        using var stream = new NetworkStream(s, ownsSocket: false);
        using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
        using var reader = new StreamReader(stream, Encoding.UTF8);
        try
        {
            writer.WriteLine(request.ToJsonString());
            string line = reader.ReadLine()
                ?? throw new AgentFsException(Errno.EIO, $"the process holding branch {branch} of store {storePath} closed the control connection");
            var reply = JsonNode.Parse(line)!.AsObject();
            if (reply["ok"]?.GetValue<bool>() != true)
                throw new AgentFsException(reply["errno"]?.GetValue<int>() ?? Errno.EIO, reply["error"]?.GetValue<string>() ?? "control request failed");
            return reply;
        }
        catch (IOException e)
        {
            throw new AgentFsException(Errno.EIO, $"the process holding branch {branch} of store {storePath} did not answer ({e.Message})");
        }
    }
}
