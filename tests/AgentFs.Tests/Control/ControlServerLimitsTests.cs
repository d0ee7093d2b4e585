using AgentFs.Control;
using System.Diagnostics;
using System.Text;
using static AgentFs.Tests.Control.ControlTestKit;

namespace AgentFs.Tests.Control;

/// <summary>
/// The control socket treats what its peer sends as untrusted input: a capped request line, UTF-8 only,
/// an idle timeout, a bounded number of connections, and an error reply (never a crash) for bad requests.
/// Each test checks afterwards that the holder still serves a good request.
/// </summary>
public sealed class ControlServerLimitsTests : IDisposable
{
    private readonly TempStore _t = new();
    private readonly AgentStore _store;
    private readonly AgentFileSystem _fs;
    private readonly string _socket;

    public ControlServerLimitsTests()
    {
        _t.WriteBase("a.txt", "base\n");
        _store = _t.Create(new StoreOptions { ControlSocket = false });
        _fs = _store.OpenFileSystem();
        _socket = Path.Combine(PrivateDirectory(_t.Root, "run"), "ctl.sock");
    }

    public void Dispose()
    {
        _fs.Dispose();
        _store.Dispose();
        _t.Dispose();
    }

    private void AssertStillServes()
    {
        using var s = Connect(_socket);
        SendAll(s, "{\"op\":\"ping\"}\n"u8);
        var reply = ReadReply(s);
        Assert.True(reply!["ok"]!.GetValue<bool>(), reply.ToJsonString());
        Assert.Equal(Environment.ProcessId, reply["pid"]!.GetValue<int>());
    }

    [Fact]
    public void A_request_line_over_one_MiB_gets_an_error_and_the_connection_is_closed()
    {
        using var server = new ControlServer(_fs, _socket);
        using (var s = Connect(_socket))
        {
            var big = new byte[ControlServer.MaxRequestBytes + 4096];
            "{\"op\":\"checkpoint\",\"message\":\""u8.CopyTo(big);
            big.AsSpan(32).Fill((byte)'a');
            var sender = Task.Run(() => SendAll(s, big)); // no newline: the server must not wait for one
            AssertError(ReadReply(s), 90 /* EMSGSIZE */, "longer than 1 MiB");
            Assert.True(Closed(s));
            Assert.True(sender.Wait(TimeSpan.FromSeconds(10)));
        }
        Assert.Empty(_store.ListCheckpoints("main"));
        AssertStillServes();
    }

    [Fact]
    public void A_line_of_exactly_the_limit_is_read_whole()
    {
        using var server = new ControlServer(_fs, _socket);
        using var s = Connect(_socket);
        var line = new byte[ControlServer.MaxRequestBytes];
        byte[] head = "{\"op\":\"checkpoint\",\"message\":\""u8.ToArray();
        head.CopyTo(line, 0);
        line.AsSpan(head.Length, line.Length - head.Length - 2).Fill((byte)'m');
        "\"}"u8.CopyTo(line.AsSpan(line.Length - 2));
        SendAll(s, [.. line, (byte)'\n']);
        var reply = ReadReply(s);
        Assert.True(reply!["ok"]!.GetValue<bool>(), reply.ToJsonString());
        Assert.Equal(ControlServer.MaxRequestBytes - head.Length - 2, _store.ListCheckpoints("main").Single().Message!.Length);
    }

    [Fact]
    public void A_UTF16_byte_order_mark_gets_an_error_reply_instead_of_switching_encodings()
    {
        using var server = new ControlServer(_fs, _socket);
        using var s = Connect(_socket);
        SendAll(s, [0xFF, 0xFE, .. "{\"op\":\"ping\"}\n"u8]);
        AssertError(ReadReply(s), Errno.EINVAL, "UTF-8");
        // A whole request in UTF-16 (with its BOM) is refused as well, and the connection still works after.
        SendAll(s, [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("{\"op\":\"ping\"}"), (byte)'\n']);
        AssertError(ReadReply(s), Errno.EINVAL);
        SendAll(s, "{\"op\":\"ping\"}\n"u8);
        Assert.True(ReadReply(s)!["ok"]!.GetValue<bool>());
        // Invalid UTF-8 inside a JSON string is refused, not replaced.
        SendAll(s, [.. "{\"op\":\"checkpoint\",\"message\":\"x"u8, 0xC3, 0x28, .. "\"}\n"u8]);
        AssertError(ReadReply(s), Errno.EINVAL, "UTF-8");
        Assert.Empty(_store.ListCheckpoints("main"));
    }

    [Theory]
    [InlineData("not json", "not a JSON object")]
    [InlineData("[1,2]", "one JSON object per line")]
    [InlineData("\"ping\"", "one JSON object per line")]
    [InlineData("{}", "without \"op\"")]
    [InlineData("{\"op\":5}", "\"op\"")]
    [InlineData("{\"op\":\"launch\"}", "unknown control request 'launch'")]
    [InlineData("{\"op\":\"rollback\"}", "\"checkpoint\"")]
    [InlineData("{\"op\":\"rollback\",\"checkpoint\":\"1\"}", "\"checkpoint\"")]
    [InlineData("{\"op\":\"rollback\",\"checkpoint\":1.5}", "\"checkpoint\"")]
    [InlineData("{\"op\":\"rollback\",\"checkpoint\":99999999999999999999999}", "\"checkpoint\"")]
    [InlineData("{\"op\":\"checkpoint\",\"message\":7}", "\"message\"")]
    [InlineData("{\"op\":\"checkpoint\",\"meta\":[\"a\"]}", "\"meta\"")]
    [InlineData("{\"op\":\"checkpoint\",\"meta\":{\"k\":1}}", "'k'")]
    [InlineData("{\"op\":\"checkpoint\",\"meta\":{\"k\":{\"deep\":\"x\"}}}", "'k'")]
    [InlineData("DEEP", "not a JSON object")]
    public void Malformed_requests_get_an_error_reply_and_change_nothing(string request, string mention)
    {
        using var server = new ControlServer(_fs, _socket);
        _fs.WriteAllText("f.txt", "kept");
        using var s = Connect(_socket);
        if (request == "DEEP") request = "{\"op\":\"ping\",\"x\":" + new string('[', 200) + new string(']', 200) + "}";
        SendAll(s, Encoding.UTF8.GetBytes(request + "\n"));
        AssertError(ReadReply(s), Errno.EINVAL, mention);
        // Same connection, next request: served.
        SendAll(s, "{\"op\":\"ping\"}\n"u8);
        Assert.True(ReadReply(s)!["ok"]!.GetValue<bool>());
        Assert.Empty(_store.ListCheckpoints("main"));
        Assert.Equal("kept", _fs.ReadAllText("f.txt"));
    }

    [Fact]
    public void An_idle_connection_is_closed_after_the_timeout()
    {
        using var server = new ControlServer(_fs, _socket, idleTimeout: TimeSpan.FromMilliseconds(500));
        using var idle = Connect(_socket);
        using var partial = Connect(_socket);
        SendAll(partial, "{\"op\":\"pi"u8); // a request that never ends counts as idle too
        var sw = Stopwatch.StartNew();
        AssertError(ReadReply(idle), 110 /* ETIMEDOUT */, "0.5 s");
        Assert.True(Closed(idle));
        AssertError(ReadReply(partial), 110);
        Assert.True(Closed(partial));
        Assert.InRange(sw.Elapsed.TotalSeconds, 0.3, 5);
        AssertStillServes();
    }

    [Fact]
    public void The_default_idle_timeout_is_30_seconds()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), ControlServer.DefaultIdleTimeout);
    }

    [Fact]
    public void Connections_beyond_the_limit_are_refused_with_an_error()
    {
        using var server = new ControlServer(_fs, _socket);
        var held = new List<System.Net.Sockets.Socket>();
        try
        {
            for (int i = 0; i < ControlServer.MaxConnections; i++)
            {
                var s = Connect(_socket);
                held.Add(s);
                SendAll(s, "{\"op\":\"ping\"}\n"u8); // served: each holds a slot from here on
                Assert.True(ReadReply(s)!["ok"]!.GetValue<bool>());
            }
            using (var extra = Connect(_socket))
            {
                AssertError(ReadReply(extra), Errno.EAGAIN, $"{ControlServer.MaxConnections} control connections");
                Assert.True(Closed(extra));
            }
            held[0].Dispose();
            held.RemoveAt(0);
            // A freed slot is reused (the server notices the close asynchronously: retry briefly).
            var sw = Stopwatch.StartNew();
            while (true)
            {
                using var again = Connect(_socket);
                SendAll(again, "{\"op\":\"ping\"}\n"u8);
                var reply = ReadReply(again);
                if (reply!["ok"]!.GetValue<bool>()) break;
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), reply.ToJsonString());
                Thread.Sleep(50);
            }
        }
        finally
        {
            foreach (var s in held) s.Dispose();
        }
    }

    [Fact]
    public void The_socket_is_0600_and_requests_from_another_uid_are_refused()
    {
        using var server = new ControlServer(_fs, _socket);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_socket));
        // Open the way for the test only (the runtime directory and the socket mode normally stop the other
        // user before connecting): the server itself must still refuse, by the peer's uid.
        File.SetUnixFileMode(Path.GetDirectoryName(_socket)!, (UnixFileMode)Convert.ToInt32("755", 8));
        File.SetUnixFileMode(_t.Root, (UnixFileMode)Convert.ToInt32("755", 8));
        File.SetUnixFileMode(_socket, (UnixFileMode)Convert.ToInt32("666", 8));
        const string client = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
            try: s.sendall(b'{"op":"checkpoint","message":"from nobody"}\n')
            except BrokenPipeError: pass  # refused before reading: the reason is still there to read
            data = b''
            while not data.endswith(b'\n'):
                chunk = s.recv(4096)
                if not chunk: break
                data += chunk
            sys.stdout.write(data.decode())
            """;
        using var p = StartAsOtherUser(client, _socket);
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(20_000));
        Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
        var reply = System.Text.Json.Nodes.JsonNode.Parse(output)!.AsObject();
        AssertError(reply, Errno.EACCES, $"uid {OtherUid}", "branch main");
        Assert.Empty(_store.ListCheckpoints("main"));
    }
}
