namespace AgentFs.Sandbox.Tests;

public static class Assertions
{
    /// <summary>Exit 1, exactly one line on stderr, "agentfs: ...", naming each of the given things.</summary>
    public static RunResult IsUserError(this RunResult r, params string[] mentions)
    {
        Assert.True(r.ExitCode == 1, $"expected exit 1\n{r}");
        Assert.True(r.StderrLines.Length == 1, $"expected one line on stderr\n{r}");
        Assert.StartsWith("agentfs: ", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
        foreach (string m in mentions) Assert.Contains(m, r.Stderr);
        return r;
    }
}
