using System.Text.Json;

namespace AgentFs.Cli.Tests;

public class BranchCommandTests
{
    [Fact]
    public void Branch_from_a_branch_starts_at_its_current_state_and_then_goes_its_own_way()
    {
        using var sb = new Sandbox();
        sb.Write("/shared", "v1").Ok();
        var r = Cli.Run("branch", sb.StorePath, "try-a", "--from", "main").Ok();
        Assert.Contains("try-a", r.Stdout);
        Assert.Equal("v1", sb.Cat("/shared", "try-a"));
        sb.Write("/shared", "on a", "try-a").Ok();
        sb.Write("/shared", "on main").Ok();
        Assert.Equal("on a", sb.Cat("/shared", "try-a"));
        Assert.Equal("on main", sb.Cat("/shared"));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Branch_from_a_checkpoint_shows_that_checkpoint()
    {
        using var sb = new Sandbox();
        sb.Write("/f", "old").Ok();
        long cp = sb.Checkpoint("old");
        sb.Write("/f", "new").Ok();
        var doc = JsonDocument.Parse(Cli.Run("branch", sb.StorePath, "feature/old", "--from", cp.ToString(), "--json").Ok().Stdout).RootElement;
        Assert.Equal("feature/old", doc.GetProperty("name").GetString());
        Assert.Equal(cp, doc.GetProperty("from_checkpoint").GetInt64());
        Assert.True(doc.TryGetProperty("created", out _));
        Assert.Equal(JsonValueKind.Null, doc.GetProperty("writer_pid").ValueKind);
        Assert.Equal("old", sb.Cat("/f", "feature/old"));
        Assert.Equal("new", sb.Cat("/f"));
    }

    [Theory]
    [InlineData("/abs")]
    [InlineData("trailing/")]
    [InlineData("a/../b")]
    [InlineData("123")]
    [InlineData("base")]
    [InlineData("has space")]
    public void Branch_with_an_invalid_name_fails_and_changes_nothing(string name)
    {
        using var sb = new Sandbox();
        string before = sb.StoreSnapshot();
        Cli.Run("branch", sb.StorePath, name, "--from", "main").UserError(name, "not a valid branch name");
        Assert.Equal(before, sb.StoreSnapshot());
    }

    [Fact]
    public void Branch_that_exists_or_from_nothing_fails_and_changes_nothing()
    {
        using var sb = new Sandbox();
        Cli.Run("branch", sb.StorePath, "b1", "--from", "main").Ok();
        string before = sb.StoreSnapshot();
        Cli.Run("branch", sb.StorePath, "b1", "--from", "main").UserError("b1", "already exists");
        Cli.Run("branch", sb.StorePath, "b2", "--from", "ghost").UserError("ghost");
        Cli.Run("branch", sb.StorePath, "b3", "--from", "999").UserError("999");
        Cli.Run("branch", sb.StorePath, "b4").UsageError("--from");
        Assert.Equal(before, sb.StoreSnapshot());
        sb.AssertBaseUnchanged();
    }
}
