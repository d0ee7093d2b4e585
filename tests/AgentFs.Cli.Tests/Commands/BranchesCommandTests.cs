using System.Text.Json;

namespace AgentFs.Cli.Tests;

public class BranchesCommandTests
{
    [Fact]
    public void Branches_lists_each_branch_on_a_tab_separated_line_sorted_by_name()
    {
        using var sb = new Sandbox();
        Cli.Run("branch", sb.StorePath, "zeta", "--from", "main").Ok();
        long cp = sb.Checkpoint();
        Cli.Run("branch", sb.StorePath, "alpha", "--from", cp.ToString()).Ok();
        var lines = Cli.Run("branches", sb.StorePath).Ok().StdoutLines;
        Assert.Equal(["alpha", "main", "zeta"], lines.Select(l => l.Split('\t')[0]));
        var alpha = lines[0].Split('\t');
        Assert.Equal(4, alpha.Length);
        Assert.Equal(cp.ToString(), alpha[1]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT", alpha[2]);
        Assert.Equal("-", alpha[3]);
        Assert.Equal("-", lines[1].Split('\t')[1]);
    }

    [Fact]
    public void Branches_json_is_an_object_with_a_branches_array()
    {
        using var sb = new Sandbox();
        var doc = JsonDocument.Parse(Cli.Run("branches", sb.StorePath, "--json").Ok().Stdout).RootElement;
        var main = Assert.Single(doc.GetProperty("branches").EnumerateArray());
        Assert.Equal("main", main.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, main.GetProperty("from_checkpoint").ValueKind);
        Assert.Equal(JsonValueKind.Null, main.GetProperty("writer_pid").ValueKind);
        Assert.True(main.TryGetProperty("created", out _));
    }

    [Fact]
    public void Branches_of_a_missing_store_fails_with_one_line()
    {
        using var sb = new Sandbox(init: false);
        Cli.Run("branches", sb.StorePath).UserError(sb.StorePath, "does not exist", "agentfs init");
        Assert.False(File.Exists(sb.StorePath));
    }
}
