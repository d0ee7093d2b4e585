using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace AgentFs.Tests.Control;

/// <summary>Raw access to a control socket, and processes run as another user (setpriv, util-linux).</summary>
internal static class ControlTestKit
{
    /// <summary>The unprivileged uid other users' processes run as in these tests (nobody).</summary>
    public const uint OtherUid = 65534;

    public static Socket Connect(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(path));
        s.ReceiveTimeout = 10_000;
        s.SendTimeout = 10_000;
        return s;
    }

    /// <summary>Sends bytes, ignoring a peer that closed early (it may refuse a request before reading all of it).</summary>
    public static void SendAll(Socket s, ReadOnlySpan<byte> data)
    {
        try
        {
            while (!data.IsEmpty)
            {
                int n = s.Send(data[..Math.Min(data.Length, 64 * 1024)]);
                data = data[n..];
            }
        }
        catch (SocketException) { }
    }

    /// <summary>One reply line parsed, or null when the connection ended (or was reset) before a line.</summary>
    public static JsonObject? ReadReply(Socket s)
    {
        var line = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            int n;
            try { n = s.Receive(one); }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { n = 0; }
            if (n == 0) return line.Count == 0 ? null : throw new InvalidOperationException("connection ended inside a reply line");
            if (one[0] == '\n') return JsonNode.Parse(Encoding.UTF8.GetString(line.ToArray()))!.AsObject();
            line.Add(one[0]);
        }
    }

    /// <summary>Whether the peer closed the connection (read returns end of file or a reset within the socket's timeout).</summary>
    public static bool Closed(Socket s)
    {
        var buf = new byte[64];
        try { return s.Receive(buf) == 0; }
        catch (SocketException e) { return e.SocketErrorCode == SocketError.ConnectionReset; }
    }

    public static void AssertError(JsonObject? reply, int errno, params string[] mentions)
    {
        Assert.NotNull(reply);
        Assert.False(reply!["ok"]!.GetValue<bool>(), reply.ToJsonString());
        Assert.True(errno == reply["errno"]!.GetValue<int>(), reply.ToJsonString());
        foreach (var m in mentions) Assert.Contains(m, reply["error"]!.GetValue<string>());
    }

    /// <summary>A directory 0700 of ours, or owned by another uid when asked.</summary>
    public static string PrivateDirectory(string parent, string name, uint? owner = null)
    {
        string dir = Path.Combine(parent, name);
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (owner is uint uid) Run("chown", uid.ToString(), dir);
        return dir;
    }

    public static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: exit {p.ExitCode}\n{output}");
        return output;
    }

    /// <summary>Starts a python3 script as uid <see cref="OtherUid"/> (setpriv); the caller kills it.</summary>
    public static Process StartAsOtherUser(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["--reuid=" + OtherUid, "--regid=" + OtherUid, "--clear-groups", Python, "-c", script, .. args])
            psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    /// <summary>A python3 every user can run (a per-user shim such as pyenv's is not).</summary>
    public static string Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3"
        : throw new InvalidOperationException("these tests need /usr/bin/python3 (Debian package python3)");

    /// <summary>Waits for a file to appear (a child's "ready" signal).</summary>
    public static void WaitFor(string path, Process child)
    {
        var sw = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (child.HasExited) throw new InvalidOperationException($"child exited ({child.ExitCode}): {child.StandardError.ReadToEnd()}");
            if (sw.Elapsed > TimeSpan.FromSeconds(20)) throw new TimeoutException($"{path} did not appear");
            Thread.Sleep(20);
        }
    }
}
