namespace AgentFs.Sandbox.Tests;

/// <summary>Bad input: one line naming what is wrong, exit 1, nothing started and nothing left behind.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly SandboxProject _p = new();

    public void Dispose() => _p.Dispose();

    [Fact]
    public void Each_mistake_gets_one_clear_line_and_exit_1_and_the_branch_stays_free()
    {
        string baseHash = SandboxProject.TreeHash(_p.BaseDir);
        string file = _p.PathIn("a-file");
        File.WriteAllText(file, "x");

        _p.Agent("run", _p.StorePath, "--branch", "nope", "--", "true").IsUserError("nope");
        _p.Agent("run", _p.PathIn("missing.agentfs"), "--", "true").IsUserError("missing.agentfs", "does not exist");
        _p.Agent("run", _p.StorePath, "--at", file, "--", "true").IsUserError(file, "not a directory");
        _p.Agent("run", _p.StorePath, "--at", _p.PathIn("nowhere"), "--", "true").IsUserError("nowhere", "not a directory");
        _p.Agent("run", _p.StorePath, "--bind", _p.PathIn("nowhere"), "--", "true").IsUserError("--bind", "nowhere");
        _p.Agent("run", _p.StorePath, "--env", "NOEQUALS", "--", "true").IsUserError("--env", "NOEQUALS");
        _p.Agent("run", _p.StorePath, "--net", "sometimes", "--", "true").IsUserError("--net", "sometimes");

        Assert.Empty(SandboxProject.ProcessesSeeingMountAt(_p.BaseDir));
        Assert.Equal(baseHash, SandboxProject.TreeHash(_p.BaseDir));
        Assert.Equal(0, _p.Agent("run", _p.StorePath, "--", "true").ExitCode);
    }
}
