namespace AgentFs.Sandbox.Tests;

/// <summary>--user: the command is another uid and gid inside, and still the caller toward the session.</summary>
public sealed class UserTests : IDisposable
{
    private readonly SandboxProject _p = new();

    public void Dispose() => _p.Dispose();

    [Fact]
    public void The_command_runs_as_the_user_inside_and_its_files_are_the_callers_outside()
    {
        var r = _p.RunScript("id -un; id -u; id -g; echo x > made.txt; stat -c '%U %u' made.txt README", "--user", "nobody:nogroup");
        Assert.True(r.ExitCode == 0, r.ToString());
        // Inside, the caller (root) is seen as nobody: its files, old and new, read as the user's own.
        Assert.Equal("nobody\n65534\n65534\nnobody 65534\nnobody 65534\n", r.Stdout);
        var outside = _p.RunScript("stat -c '%u %g' made.txt");
        Assert.Equal("0 0\n", outside.Stdout);
        Assert.Equal("1001\n", _p.RunScript("id -u", "--user", "1001").Stdout);
    }

    [Fact]
    public void An_unknown_user_or_group_is_one_line_and_exit_1()
    {
        _p.Agent("run", _p.StorePath, "--user", "no-such-user-here", "--", "true").IsUserError("--user", "no-such-user-here");
        _p.Agent("run", _p.StorePath, "--user", "nobody:no-such-group", "--", "true").IsUserError("--user", "no-such-group");
        Assert.Empty(SandboxProject.ProcessesSeeingMountAt(_p.BaseDir));
    }
}
