using System.Text.Json;
using System.Text.RegularExpressions;

namespace AgentFs.Cli.Tests;

public class TraceCommandTests
{
    [Fact]
    public void Trace_lists_the_added_lines_of_each_file_by_conversation()
    {
        using var sb = new Sandbox();
        sb.Write("/a.txt", "hello\nworld\n").Ok();
        Cli.Run("checkpoint", sb.StorePath, "-m", "task 1", "--meta", "conversation_url=https://chat.example.com/c/1",
            "--meta", "model=anthropic/claude-sonnet-4").Ok();
        sb.Write("/notes.md", "one\ntwo\n").Ok();
        var r = Cli.Run("trace", sb.StorePath).Ok();
        Assert.Equal(["a.txt\t2-2\thttps://chat.example.com/c/1\tanthropic/claude-sonnet-4", "notes.md\t1-2\t\t"], r.StdoutLines);
    }

    [Fact]
    public void Trace_json_is_an_agent_trace_record_with_the_checkpoint_metadata()
    {
        using var sb = new Sandbox();
        sb.Write("/src/main.c", "int main(void) { return 0; }\nint helper(void) { return 1; }\n").Ok();
        long cp = long.Parse(Cli.Run("checkpoint", sb.StorePath, "-m", "add helper", "--meta", "conversation_url=https://chat.example.com/c/9",
            "--meta", "model_id=openai/gpt-5", "--meta", "ticket=T-9").Ok().StdoutLines[^1]);
        var doc = AgentFs.Tests.Trace.AgentTraceSchema.Check(Cli.Run("trace", sb.StorePath, "--to", cp.ToString(), "--json").Ok().Stdout);

        Assert.Equal(["version", "id", "timestamp", "tool", "files", "metadata"], doc.EnumerateObject().Select(p => p.Name));
        Assert.Matches(@"^[0-9]+\.[0-9]+\.[0-9]+$", doc.GetProperty("version").GetString());
        Assert.Equal("0.1.0", doc.GetProperty("version").GetString());
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", doc.GetProperty("id").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", doc.GetProperty("timestamp").GetString());
        Assert.Equal("agentfs", doc.GetProperty("tool").GetProperty("name").GetString());
        var file = doc.GetProperty("files").EnumerateArray().Single();
        Assert.Equal("src/main.c", file.GetProperty("path").GetString());
        var conv = file.GetProperty("conversations").EnumerateArray().Single();
        Assert.Equal("https://chat.example.com/c/9", conv.GetProperty("url").GetString());
        Assert.Equal("ai", conv.GetProperty("contributor").GetProperty("type").GetString());
        Assert.Equal("openai/gpt-5", conv.GetProperty("contributor").GetProperty("model_id").GetString());
        var range = conv.GetProperty("ranges").EnumerateArray().Single();
        Assert.Equal(2, range.GetProperty("start_line").GetInt32());
        Assert.Equal(2, range.GetProperty("end_line").GetInt32());
        Assert.Matches("^sha256:[0-9a-f]{64}$", range.GetProperty("content_hash").GetString());
        var to = doc.GetProperty("metadata").GetProperty("dev.agentfs").GetProperty("to");
        Assert.Equal("add helper", to.GetProperty("message").GetString());
        Assert.Equal("T-9", to.GetProperty("meta").GetProperty("ticket").GetString());
    }

    [Fact]
    public void Trace_between_refs_and_unknown_refs()
    {
        using var sb = new Sandbox();
        sb.Write("/a.txt", "hello\nv1\n").Ok();
        long c1 = sb.Checkpoint("one");
        sb.Write("/a.txt", "hello\nv1\nv2\n").Ok();
        long c2 = sb.Checkpoint("two");
        Assert.Equal(["a.txt\t3-3\t\t"], Cli.Run("trace", sb.StorePath, "--from", c1.ToString(), "--to", c2.ToString()).Ok().StdoutLines);
        Assert.Equal(["a.txt\t2-3\t\t"], Cli.Run("trace", sb.StorePath, "--from", "base", "--to", "main").Ok().StdoutLines);
        Assert.Empty(Cli.Run("trace", sb.StorePath, "--from", "main").Ok().StdoutLines);
        Cli.Run("trace", sb.StorePath, "--from", "nope").UserError("'nope'", "is not base, a checkpoint or a branch");
        Cli.Run("trace", sb.StorePath, "--to", "4242").UserError("checkpoint 4242 does not exist");
        Cli.Run("trace", sb.StorePath, "--branch", "ghost").UserError("branch ghost does not exist");
    }
}
