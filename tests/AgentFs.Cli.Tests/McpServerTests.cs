using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AgentFs.Fuse;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentFs.Cli.Tests;

/// <summary>
/// <c>agentfs mcp</c> through the SDK's own client (McpClient over StdioClientTransport) starting the real ./agentfs:
/// the tools it lists, what each answers (byte for byte what the commands print), bad input as MCP errors that change
/// nothing, and a rollback while the branch is mounted (a real FUSE mount in this process, reached through its control
/// socket) that the mount shows at once.
/// </summary>
public sealed class McpServerTests : IClassFixture<ScriptFixture>
{
    private static readonly string[] ToolNames = ["branch", "checkpoint", "diff", "log", "ops", "rollback", "status"];
    private readonly ScriptFixture _script;

    public McpServerTests(ScriptFixture script) => _script = script;

    private Task<McpClient> Connect(string store, string branch = "main") =>
        McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "agentfs",
            Command = _script.Script,
            Arguments = ["mcp", store, "--branch", branch],
            ShutdownTimeout = TimeSpan.FromSeconds(10),
        }));

    private static async Task<CallToolResult> Call(McpClient client, string tool, string argumentsJson = "{}")
    {
        using var doc = JsonDocument.Parse(argumentsJson);
        var arguments = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
        return await client.CallToolAsync(new CallToolRequestParams { Name = tool, Arguments = arguments });
    }

    private static string Text(CallToolResult r, int block = 0) => ((TextContentBlock)r.Content[block]).Text;

    private static string Ok(CallToolResult r)
    {
        Assert.True(r.IsError != true, "tool error: " + string.Join(" | ", r.Content.OfType<TextContentBlock>().Select(b => b.Text)));
        return Text(r);
    }

    private static string Error(CallToolResult r, params string[] mentions)
    {
        Assert.True(r.IsError == true, "expected an error result, got: " + string.Join(" | ", r.Content.OfType<TextContentBlock>().Select(b => b.Text)));
        string text = Assert.Single(r.Content.OfType<TextContentBlock>()).Text;
        Assert.DoesNotContain('\n', text);
        Assert.DoesNotContain("Exception", text);
        foreach (var m in mentions) Assert.Contains(m, text);
        return text;
    }

    [Fact]
    public async Task Lists_the_seven_tools_each_described_with_an_input_schema()
    {
        using var sb = new Sandbox();
        await using var client = await Connect(sb.StorePath);
        Assert.Equal("agentfs", client.ServerInfo?.Name);
        var tools = await client.ListToolsAsync();
        Assert.Equal(ToolNames, tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var t in tools)
        {
            Assert.False(string.IsNullOrWhiteSpace(t.Description), t.Name);
            var schema = t.ProtocolTool.InputSchema;
            Assert.Equal("object", schema.GetProperty("type").GetString());
            Assert.False(schema.GetProperty("additionalProperties").GetBoolean());
            foreach (var p in schema.GetProperty("properties").EnumerateObject())
                Assert.False(string.IsNullOrWhiteSpace(p.Value.GetProperty("description").GetString()), $"{t.Name}.{p.Name}");
            bool readOnly = t.Name is "diff" or "log" or "ops" or "status";
            Assert.Equal(readOnly, t.ProtocolTool.Annotations?.ReadOnlyHint);
        }
        var rollback = tools.Single(t => t.Name == "rollback").ProtocolTool.InputSchema;
        Assert.Equal(["checkpoint"], rollback.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("integer", rollback.GetProperty("properties").GetProperty("checkpoint").GetProperty("type").GetString());
        Assert.True(tools.Single(t => t.Name == "rollback").ProtocolTool.Annotations!.DestructiveHint);
        var diff = tools.Single(t => t.Name == "diff").ProtocolTool.InputSchema.GetProperty("properties");
        Assert.Equal(["unified", "name-status"], diff.GetProperty("format").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        var ops = tools.Single(t => t.Name == "ops").ProtocolTool.InputSchema.GetProperty("properties");
        Assert.Contains("checkpoint", ops.GetProperty("op").GetProperty("items").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Each_tool_answers_what_the_command_prints()
    {
        using var sb = new Sandbox();
        sb.Write("/a.txt", "hello\nagain\n").Ok();
        sb.Write("/notes.md", "# notes\n").Ok();
        await using var client = await Connect(sb.StorePath);

        string id = Ok(await Call(client, "checkpoint", """{"message": "first task", "meta": {"task": "1", "model": "m"}}"""));
        var log = Cli.Run("log", sb.StorePath).Ok();
        Assert.Equal($"{id}\t", log.StdoutLines[0][..(id.Length + 1)]);
        Assert.EndsWith("\tmain\tfirst task\tmodel=m,task=1", log.StdoutLines[0]);
        Assert.Equal(log.Stdout, Ok(await Call(client, "log")));

        sb.Write("/a.txt", "changed\n").Ok();
        Cli.Run("fs", sb.StorePath, "rm", "/notes.md").Ok();
        foreach (var (args, cli) in new (string, string[])[]
                 {
                     ("{}", ["diff", sb.StorePath]),
                     ($$"""{"from": {{id}}}""", ["diff", sb.StorePath, "--from", id]),
                     ($$"""{"from": "{{id}}", "format": "name-status"}""", ["diff", sb.StorePath, "--from", id, "--name-status"]),
                     ("""{"from": "base", "to": "main", "format": "name-status"}""", ["diff", sb.StorePath, "--name-status"]),
                 })
        {
            string expected = Cli.Run(cli).Ok().Stdout;
            Assert.Contains("a.txt", expected);
            Assert.Equal(expected, Ok(await Call(client, "diff", args)));
        }

        Assert.Equal(Cli.Run("ops", sb.StorePath).Ok().Stdout, Ok(await Call(client, "ops")));
        Assert.Equal(Cli.Run("ops", sb.StorePath, "--from", id, "--op", "write,unlink").Ok().Stdout,
            Ok(await Call(client, "ops", $$"""{"from": {{id}}, "op": ["write", "unlink"]}""")));
        string summary = Cli.Run("ops", sb.StorePath, "--summary").Ok().Stdout;
        Assert.StartsWith("process\t", summary);
        Assert.Equal(summary, Ok(await Call(client, "ops", """{"summary": true}""")));
        var lastTwo = Cli.Run("ops", sb.StorePath).Ok().StdoutLines[^2..];
        var limited = await Call(client, "ops", """{"limit": 2}""");
        Assert.Equal(string.Join("", lastTwo.Select(l => l + "\n")), Ok(limited));
        Assert.Contains("left out the", Text(limited, 1));

        string status = Ok(await Call(client, "status"));
        Assert.Contains($"store: {sb.StorePath}\n", status);
        Assert.Contains($"base: {sb.BaseDir}\n", status);
        Assert.Contains("writer: none\n", status);
        Assert.Contains($"last checkpoint: {log.StdoutLines[0]}\n", status);
        Assert.Contains("changed since checkpoint " + id + ": 2 paths\n", status);

        Assert.Equal($"created branch alt from checkpoint {id}", Ok(await Call(client, "branch", $$"""{"name": "alt", "from": {{id}}}""")));
        Assert.Equal("hello\nagain\n", sb.Cat("/a.txt", "alt"));

        Assert.Equal($"branch main rolled back to checkpoint {id}", Ok(await Call(client, "rollback", $$"""{"checkpoint": {{id}}}""")));
        Assert.Equal("hello\nagain\n", sb.Cat("/a.txt"));
        Assert.Equal("# notes\n", sb.Cat("/notes.md"));
        Assert.Equal("", Cli.Run("diff", sb.StorePath, "--from", id).Ok().Stdout);
        var empty = await Call(client, "diff", $$"""{"from": {{id}}}""");
        Assert.Equal("", Ok(empty));
        Assert.Equal($"no changes from {id} to main", Text(empty, 1));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public async Task A_long_diff_is_cut_at_a_line_end_within_max_bytes()
    {
        using var sb = new Sandbox();
        sb.Write("/big.txt", string.Concat(Enumerable.Range(0, 3000).Select(i => $"line {i}\n"))).Ok();
        string full = Cli.Run("diff", sb.StorePath).Ok().Stdout;
        Assert.True(Encoding.UTF8.GetByteCount(full) > 20_000);
        await using var client = await Connect(sb.StorePath);
        var r = await Call(client, "diff", """{"max_bytes": 2000}""");
        string cut = Ok(r);
        Assert.True(cut.Length is > 1900 and <= 2000, cut.Length.ToString());
        Assert.EndsWith("\n", cut);
        Assert.StartsWith(cut, full);
        Assert.Contains($"diff cut at {cut.Length} of {Encoding.UTF8.GetByteCount(full)} bytes", Text(r, 1));
        Assert.Equal(full, Ok(await Call(client, "diff", """{"max_bytes": 4194304}""")));
    }

    [Fact]
    public async Task Bad_input_is_an_mcp_error_and_changes_nothing()
    {
        using var sb = new Sandbox();
        sb.Write("/a.txt", "one\n").Ok();
        long cp = sb.Checkpoint("one");
        sb.Write("/a.txt", "two\n").Ok();
        string before = sb.StoreSnapshot();
        await using var client = await Connect(sb.StorePath);

        Error(await Call(client, "rollback", """{"checkpoint": "x"}"""), "checkpoint", "must be an integer", "\"x\"");
        Error(await Call(client, "rollback", """{"checkpoint": 1.5}"""), "checkpoint", "must be an integer");
        Error(await Call(client, "rollback"), "needs the argument 'checkpoint'");
        Error(await Call(client, "rollback", """{"checkpoint": 999}"""), "999");
        Error(await Call(client, "rollback", """{"checkpoint": 0}"""), "checkpoint", "at least 1");
        Error(await Call(client, "checkpoint", """{"message": 5}"""), "message", "must be a string");
        Error(await Call(client, "checkpoint", """{"meta": {"task": 1}}"""), "meta", "task", "must be a string");
        Error(await Call(client, "checkpoint", """{"mesage": "typo"}"""), "has no argument 'mesage'", "message");
        Error(await Call(client, "branch", """{"name": "alt", "from": "nope"}"""), "nope");
        Error(await Call(client, "branch", """{"name": ["alt"]}"""), "name", "must be a string");
        Error(await Call(client, "branch", """{"name": "main"}"""), "main");
        Error(await Call(client, "diff", """{"from": "nope"}"""), "nope");
        Error(await Call(client, "diff", """{"to": true}"""), "to", "checkpoint id");
        Error(await Call(client, "diff", """{"format": "stat"}"""), "format", "unified, name-status");
        Error(await Call(client, "diff", """{"max_bytes": 10}"""), "max_bytes", "from 1024");
        Error(await Call(client, "ops", """{"since": "last tuesday"}"""), "last tuesday");
        Error(await Call(client, "ops", """{"op": ["write", "bogus"]}"""), "op", "bogus");
        Error(await Call(client, "ops", """{"from": "nope"}"""), "nope");
        Error(await Call(client, "ops", """{"pid": "12"}"""), "pid", "must be an integer");
        Error(await Call(client, "log", """{"limit": 0}"""), "limit");
        Error(await Call(client, "status", """{"verbose": true}"""), "takes no arguments", "verbose");
        var unknown = await Assert.ThrowsAsync<McpProtocolException>(() => Call(client, "format_disk"));
        Assert.Equal(McpErrorCode.InvalidParams, unknown.ErrorCode);

        // The server is still there, and nothing changed.
        Assert.Contains("last checkpoint: " + cp, Ok(await Call(client, "status")));
        Assert.Equal(before, sb.StoreSnapshot());
        Assert.Equal("two\n", sb.Cat("/a.txt"));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Stdout_carries_only_protocol_messages_and_the_server_ends_cleanly_when_stdin_closes()
    {
        using var sb = new Sandbox();
        var psi = new ProcessStartInfo(_script.Script, ["mcp", sb.StorePath])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.NewLine = "\n";
        p.StandardInput.WriteLine("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""");
        p.StandardInput.WriteLine("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        p.StandardInput.WriteLine("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"checkpoint","arguments":{"message":"from a pipe"}}}""");
        p.StandardInput.Flush();
        // As a client does: read until the answer to the call, then close stdin and expect the server to end.
        var replies = new List<JsonElement>();
        while (!replies.Any(m => m.TryGetProperty("id", out var id) && id.GetInt32() == 2))
        {
            string line = p.StandardOutput.ReadLine() ?? throw new Xunit.Sdk.XunitException("stdout ended early; stderr: " + stderr.Result);
            replies.Add(JsonDocument.Parse(line).RootElement.Clone()); // every line of stdout is a JSON-RPC message
        }
        p.StandardInput.Close();
        string rest = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(30_000), "the server did not end after stdin closed");
        Assert.Equal(0, p.ExitCode);
        Assert.Equal("", stderr.Result);
        Assert.Equal("", rest);
        Assert.All(replies, m => Assert.Equal("2.0", m.GetProperty("jsonrpc").GetString()));
        var call = replies.Single(m => m.GetProperty("id").GetInt32() == 2).GetProperty("result");
        string checkpointId = call.GetProperty("content")[0].GetProperty("text").GetString()!;
        Assert.Equal($"{checkpointId}\t", Cli.Run("log", sb.StorePath).Ok().StdoutLines[0][..(checkpointId.Length + 1)]);
    }

    [Fact]
    public async Task A_branch_that_does_not_exist_is_refused_at_start()
    {
        using var sb = new Sandbox();
        _script.Run(null, null, "mcp", sb.StorePath, "--branch", "nope").UserError("nope", sb.StorePath);
        _script.Run(null, null, "mcp", sb.PathIn("missing.agentfs")).UserError("missing.agentfs", "does not exist");
        // A branch made after the server started is served like any other ref.
        await using var client = await Connect(sb.StorePath);
        Cli.Run("branch", sb.StorePath, "later", "--from", "main").Ok();
        Assert.Equal(Cli.Run("diff", sb.StorePath, "--to", "later").Ok().Stdout, Ok(await Call(client, "diff", """{"to": "later"}""")));
    }

    [Fact]
    public async Task Rollback_while_mounted_restores_the_files_seen_through_the_mount()
    {
        using var sb = new Sandbox();
        string mnt = sb.PathIn("mnt");
        Directory.CreateDirectory(mnt);
        var mount = AgentMount.Mount(sb.StorePath, mnt, new AgentMountOptions { Branch = "main" });
        try
        {
            Sh($"printf 'v1\\n' > {mnt}/f.txt");
            await using var client = await Connect(sb.StorePath);
            Assert.Contains($"mounted: {mnt} (process {Environment.ProcessId})", Ok(await Call(client, "status")));
            string id = Ok(await Call(client, "checkpoint", """{"message": "v1"}"""));
            Assert.Equal("v1", Cli.Run("log", sb.StorePath).Ok().StdoutLines[0].Split('\t')[3]);

            Sh($"printf 'v2 is longer\\n' > {mnt}/f.txt && echo new > {mnt}/new.txt && rm {mnt}/a.txt");
            Assert.Equal("v2 is longer\n", Sh($"cat {mnt}/f.txt")); // now in the kernel's cache
            // The diff tool asks the mount to commit first, so it shows what was just written, as the command then does.
            string diff = Ok(await Call(client, "diff", $$"""{"from": {{id}}, "format": "name-status"}"""));
            Assert.Equal("D\ta.txt\nM\tf.txt\nA\tnew.txt\n", diff);
            Assert.Equal(diff, Cli.Run("diff", sb.StorePath, "--from", id, "--name-status").Ok().Stdout);

            Assert.Equal($"branch main rolled back to checkpoint {id}", Ok(await Call(client, "rollback", $$"""{"checkpoint": {{id}}}""")));
            Assert.Equal("v1\n", Sh($"cat {mnt}/f.txt"));
            Assert.Equal("hello\n", Sh($"cat {mnt}/a.txt"));
            Assert.False(File.Exists(Path.Combine(mnt, "new.txt")));
            Assert.Equal("", Ok(await Call(client, "diff", $$"""{"from": {{id}}}""")));
            // The mount goes on working after the rollback.
            Sh($"echo after >> {mnt}/f.txt");
            Assert.Equal("v1\nafter\n", Sh($"cat {mnt}/f.txt"));
        }
        finally
        {
            mount.Dispose();
            if (AgentMount.IsMountPoint(mnt)) Process.Start("umount", ["-l", mnt])!.WaitForExit();
        }
        sb.AssertBaseUnchanged();
    }

    private static string Sh(string script)
    {
        var psi = new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "timed out: " + script);
        Assert.True(p.ExitCode == 0, $"'{script}' exited {p.ExitCode}: {err.Result}");
        return output;
    }
}
