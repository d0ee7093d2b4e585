namespace AgentFs.Cli.Tests;

/// <summary>Command-line input a hostile or careless caller passes: refused with one clear line, nothing changed.</summary>
public class HostileInputTests
{
    /// <summary>.NET's '$' also matches before a final newline, so "evil\n" passed the branch name pattern and then
    /// split its row of the tab-separated 'branches' listing in two. Empty and '.' components are refused too.</summary>
    [Theory]
    [InlineData("evil\n")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("a/.hidden")]
    public void Branch_names_with_a_newline_or_an_empty_or_dot_component_are_refused(string name)
    {
        using var sb = new Sandbox();
        Cli.Run("branch", sb.StorePath, name, "--from", "main").UserError("not a valid branch name");
        var listing = Cli.Run("branches", sb.StorePath).Ok();
        Assert.Single(listing.StdoutLines);
        Assert.StartsWith("main\t", listing.StdoutLines[0]);
    }

    /// <summary>A patch holds the session's file contents like an export does, so it is created 0600 whatever the
    /// umask (it was 0644); and a symlink planted at the output path is replaced, not followed.</summary>
    [Fact]
    public void Patch_output_is_private_and_a_planted_symlink_is_not_followed()
    {
        using var sb = new Sandbox();
        sb.Write("/secret", "private content\n").Ok();
        string victim = sb.PathIn("victim"), output = sb.PathIn("out.patch");
        File.WriteAllText(victim, "victim\n");
        File.CreateSymbolicLink(output, victim);
        Cli.Run("patch", sb.StorePath, "-o", output).Ok();
        Assert.Equal("victim\n", File.ReadAllText(victim));
        Assert.Null(new FileInfo(output).LinkTarget);
        Assert.Contains("+private content", File.ReadAllText(output));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(output));
    }
}
