using System.Text.Json;

namespace AgentFs.Cli.Tests;

public class LogCommandTests
{
    [Fact]
    public void Log_lists_checkpoints_newest_first_with_message_and_meta()
    {
        using var sb = new Sandbox();
        Assert.Empty(Cli.Run("log", sb.StorePath).Ok().StdoutBytes);
        long a = sb.Checkpoint("one");
        long b = long.Parse(Cli.Run("checkpoint", sb.StorePath, "-m", "two\tlines\nhere", "--meta", "k=v").Ok().StdoutLines[^1]);
        var lines = Cli.Run("log", sb.StorePath).Ok().StdoutLines;
        Assert.Equal(2, lines.Length);
        var top = lines[0].Split('\t');
        Assert.Equal([b.ToString(), "main", "two lines here", "k=v"], [top[0], top[2], top[3], top[4]]);
        Assert.StartsWith($"{a}\t", lines[1]);
    }

    [Fact]
    public void Log_of_a_branch_includes_the_history_it_started_from()
    {
        using var sb = new Sandbox();
        long a = sb.Checkpoint("on main");
        Cli.Run("branch", sb.StorePath, "side", "--from", a.ToString()).Ok();
        long s = sb.Checkpoint("on side", "side");
        sb.Checkpoint("later on main");
        var doc = JsonDocument.Parse(Cli.Run("log", sb.StorePath, "--branch", "side", "--json").Ok().Stdout).RootElement;
        Assert.Equal("side", doc.GetProperty("branch").GetString());
        var cps = doc.GetProperty("checkpoints").EnumerateArray().ToList();
        Assert.Equal([s, a], cps.Select(c => c.GetProperty("id").GetInt64()));
        Assert.Equal(["side", "main"], cps.Select(c => c.GetProperty("branch").GetString()));
    }

    [Fact]
    public void Log_of_an_unknown_branch_fails_with_one_line()
    {
        using var sb = new Sandbox();
        Cli.Run("log", sb.StorePath, "--branch", "ghost").UserError("ghost", sb.StorePath);
        Cli.Run("log", sb.StorePath, "--branch").UsageError("--branch");
    }
}
