using System.Text.Json;

namespace AgentFs.Cli.Tests;

public class CheckpointCommandTests
{
    [Fact]
    public void Checkpoint_prints_the_new_id_on_its_last_line()
    {
        using var sb = new Sandbox();
        var r = Cli.Run("checkpoint", sb.StorePath, "-m", "first").Ok();
        Assert.Single(r.StdoutLines);
        long first = long.Parse(r.StdoutLines[^1]);
        sb.Write("/x", "x").Ok();
        long second = sb.Checkpoint("second");
        Assert.True(second > first);
        var log = Cli.Run("log", sb.StorePath).Ok().StdoutLines;
        Assert.StartsWith($"{second}\t", log[0]);
        Assert.Contains("\tsecond\t", log[0]);
        Assert.StartsWith($"{first}\t", log[1]);
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Checkpoint_json_carries_message_meta_and_time()
    {
        using var sb = new Sandbox();
        var r = Cli.Run("checkpoint", sb.StorePath, "--message", "task done", "--meta", "task=42", "--meta", "agent=a=b", "--json").Ok();
        var doc = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.True(doc.GetProperty("id").GetInt64() > 0);
        Assert.Equal("main", doc.GetProperty("branch").GetString());
        Assert.Equal("task done", doc.GetProperty("message").GetString());
        Assert.Equal("42", doc.GetProperty("meta").GetProperty("task").GetString());
        Assert.Equal("a=b", doc.GetProperty("meta").GetProperty("agent").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", doc.GetProperty("created").GetString());
        var again = JsonDocument.Parse(Cli.Run("log", sb.StorePath, "--json").Ok().Stdout).RootElement.GetProperty("checkpoints")[0];
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(doc.GetRawText()), System.Text.Json.Nodes.JsonNode.Parse(again.GetRawText())));
    }

    [Fact]
    public void Checkpoint_without_message_has_null_message()
    {
        using var sb = new Sandbox();
        var doc = JsonDocument.Parse(Cli.Run("checkpoint", sb.StorePath, "--json").Ok().Stdout).RootElement;
        Assert.Equal(JsonValueKind.Null, doc.GetProperty("message").ValueKind);
        Assert.Empty(doc.GetProperty("meta").EnumerateObject());
    }

    [Fact]
    public void Checkpoint_of_an_unknown_branch_or_with_bad_meta_fails_and_changes_nothing()
    {
        using var sb = new Sandbox();
        sb.Checkpoint("keep");
        string before = sb.StoreSnapshot();
        Cli.Run("checkpoint", sb.StorePath, "--branch", "ghost").UserError("ghost", "does not exist");
        Cli.Run("checkpoint", sb.StorePath, "--meta", "novalue").UserError("novalue", "key=value");
        Cli.Run("checkpoint", sb.StorePath, "--meta", "=v").UserError("=v");
        Assert.Equal(before, sb.StoreSnapshot());
        Cli.Run("checkpoint").UsageError("checkpoint --help");
    }
}
