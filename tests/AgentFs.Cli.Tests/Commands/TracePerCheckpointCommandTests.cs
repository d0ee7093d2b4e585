using System.Text.Json;

namespace AgentFs.Cli.Tests;

public class TracePerCheckpointCommandTests
{
    [Fact]
    public void Trace_per_checkpoint_gives_one_record_per_turn_with_its_own_conversation_and_model()
    {
        using var sb = new Sandbox();
        sb.Write("/a.txt", "hello\nturn one\n").Ok();
        Cli.Run("checkpoint", sb.StorePath, "-m", "turn 1", "--meta", "conversation_url=https://chat.example.com/c/1", "--meta", "model=anthropic/claude-opus-4-5").Ok();
        sb.Write("/a.txt", "hello\nturn one\nturn two\n").Ok();
        sb.Write("/b.txt", "b\n").Ok();
        Cli.Run("checkpoint", sb.StorePath, "-m", "turn 2", "--meta", "session_id=ses_2", "--meta", "model=openai/gpt-5").Ok();
        Cli.Run("checkpoint", sb.StorePath, "-m", "nothing").Ok(); // a checkpoint without changes: a record without files
        sb.Write("/c.txt", "not yet a turn\n").Ok();

        var records = Cli.Run("trace", sb.StorePath, "--per-checkpoint", "--json").Ok().StdoutLines
            .Select(l => AgentFs.Tests.Trace.AgentTraceSchema.Check(l)).ToList();
        Assert.Equal(4, records.Count);
        Assert.Equal(["1", "2", "3", "main"], records.Select(To));
        Assert.Equal(["a.txt 2-2 https://chat.example.com/c/1 anthropic/claude-opus-4-5"], Lines(records[0]));
        Assert.Equal(["a.txt 3-3  openai/gpt-5", "b.txt 1-1  openai/gpt-5"], Lines(records[1]));
        Assert.Empty(Lines(records[2]));
        Assert.Equal(["c.txt 1-1  "], Lines(records[3]));
        Assert.Equal(4, records.Select(r => r.GetProperty("id").GetString()).Distinct().Count());

        // A range: --from 1 --to 2 is turn 2 alone; text is one line per checkpoint, file and conversation.
        Assert.Equal(["2\ta.txt\t3-3\t\topenai/gpt-5", "2\tb.txt\t1-1\t\topenai/gpt-5"],
            Cli.Run("trace", sb.StorePath, "--per-checkpoint", "--from", "1", "--to", "2").Ok().StdoutLines);
        // The same range as one record attributes the same lines to the same conversations.
        var whole = AgentFs.Tests.Trace.AgentTraceSchema.Check(Cli.Run("trace", sb.StorePath, "--to", "2", "--json").Ok().Stdout);
        Assert.Equal(["a.txt 2-2 https://chat.example.com/c/1 anthropic/claude-opus-4-5", "a.txt 3-3  openai/gpt-5", "b.txt 1-1  openai/gpt-5"], Lines(whole));
    }

    [Fact]
    public void Trace_per_checkpoint_of_bad_refs_is_one_line_and_of_nothing_is_empty()
    {
        using var sb = new Sandbox();
        Cli.Run("trace", sb.StorePath, "--per-checkpoint", "--from", "9").UserError("checkpoint 9");
        Cli.Run("trace", sb.StorePath, "--per-checkpoint", "--branch", "nope").UserError("branch nope");
        Assert.Empty(Cli.Run("trace", sb.StorePath, "--per-checkpoint", "--json").Ok().StdoutBytes);
    }

    private static string To(JsonElement record)
    {
        var to = record.GetProperty("metadata").GetProperty("dev.agentfs").GetProperty("to");
        return to.TryGetProperty("checkpoint", out var id) ? id.GetInt64().ToString() : to.GetProperty("branch").GetString()!;
    }

    private static List<string> Lines(JsonElement record) =>
        record.GetProperty("files").EnumerateArray().SelectMany(f => f.GetProperty("conversations").EnumerateArray().Select(c =>
            $"{f.GetProperty("path").GetString()} {string.Join(",", c.GetProperty("ranges").EnumerateArray().Select(r => $"{r.GetProperty("start_line")}-{r.GetProperty("end_line")}"))} " +
            $"{(c.TryGetProperty("url", out var u) ? u.GetString() : "")} {(c.GetProperty("contributor").TryGetProperty("model_id", out var m) ? m.GetString() : "")}")).ToList();
}
