using System.Text.Json;

namespace AgentFs.Cli.Tests;

public class RollbackCommandTests
{
    [Fact]
    public void Rollback_returns_the_branch_to_a_checkpoint()
    {
        using var sb = new Sandbox();
        sb.Write("/f", "v1").Ok();
        long v1 = sb.Checkpoint("v1");
        sb.Write("/f", "v2").Ok();
        sb.Fs("rm", "/a.txt").Ok();
        long v2 = sb.Checkpoint("v2");
        sb.Write("/g", "uncommitted").Ok();

        var r = Cli.Run("rollback", sb.StorePath, v1.ToString()).Ok();
        Assert.Contains($"checkpoint {v1}", r.Stdout);
        Assert.Equal("v1", sb.Cat("/f"));
        Assert.Equal("hello\n", sb.Cat("/a.txt"));
        sb.Fs("cat", "/g").UserError("/g");
        // The later checkpoint left main's history but still exists: a branch can start from it.
        Assert.Equal([v1.ToString()], Cli.Run("log", sb.StorePath).Ok().StdoutLines.Select(l => l.Split('\t')[0]));
        Cli.Run("branch", sb.StorePath, "v2-again", "--from", v2.ToString()).Ok();
        Assert.Equal("v2", sb.Cat("/f", "v2-again"));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Rollback_json_names_branch_and_checkpoint()
    {
        using var sb = new Sandbox();
        Cli.Run("branch", sb.StorePath, "b", "--from", "main").Ok();
        long cp = sb.Checkpoint("x", "b");
        sb.Write("/f", "later", "b").Ok();
        var doc = JsonDocument.Parse(Cli.Run("rollback", sb.StorePath, cp.ToString(), "--branch", "b", "--json").Ok().Stdout).RootElement;
        Assert.Equal("b", doc.GetProperty("branch").GetString());
        Assert.Equal(cp, doc.GetProperty("checkpoint").GetInt64());
        sb.Fs("cat", "/f", "--branch", "b").UserError("/f");
    }

    [Fact]
    public void Rollback_to_an_unknown_checkpoint_fails_and_changes_nothing()
    {
        using var sb = new Sandbox();
        sb.Checkpoint("c");
        sb.Write("/pending", "p").Ok();
        string before = sb.StoreSnapshot();
        Cli.Run("rollback", sb.StorePath, "4242").UserError("4242", "does not exist");
        Cli.Run("rollback", sb.StorePath, "latest").UserError("latest", "not a checkpoint id");
        Cli.Run("rollback", sb.StorePath, "-1").UsageError("-1");
        Cli.Run("rollback", sb.StorePath, "1", "--branch", "ghost").UserError("ghost");
        Assert.Equal(before, sb.StoreSnapshot());
        Assert.Equal("p", sb.Cat("/pending"));
    }

    [Fact]
    public void Rollback_to_a_checkpoint_of_another_branch_fails_and_changes_nothing()
    {
        using var sb = new Sandbox();
        Cli.Run("branch", sb.StorePath, "other", "--from", "main").Ok();
        sb.Write("/o", "other", "other").Ok();
        long onOther = sb.Checkpoint("on other", "other");
        sb.Write("/m", "main").Ok();
        string before = sb.StoreSnapshot();
        Cli.Run("rollback", sb.StorePath, onOther.ToString()).UserError(onOther.ToString(), "not in the history of branch main");
        Assert.Equal(before, sb.StoreSnapshot());
        Assert.Equal("main", sb.Cat("/m"));
        sb.AssertBaseUnchanged();
    }
}
