using System.Diagnostics;

namespace AgentFs.Sandbox.Tests;

/// <summary>
/// Ending a running sandbox from outside (issue 9, item 7): <c>agentfs stop</c> (by store, path or pid) and
/// <c>agentfs unmount PATH</c>. The command gets SIGTERM first (and SIGKILL 5 s later if it ignores it); when
/// stop returns, every process of the sandbox is gone, the last writes are committed and the branch is free.
/// </summary>
public sealed class StopTests : IDisposable
{
    private readonly SandboxProject _p = new();

    public void Dispose() => _p.Dispose();

    /// <summary>A sandbox whose shell leaves a background sleep, writes a file it does not sync, and on SIGTERM
    /// writes term.txt and exits (unless <paramref name="ignoreTerm"/>).</summary>
    private (Process Run, string Marker) StartSandbox(bool ignoreTerm = false, string branch = "main")
    {
        string marker = $"32{Random.Shared.Next(100000, 999999)}";
        string trap = ignoreTerm ? "trap '' TERM" : "trap 'echo got TERM > term.txt; exit 0' TERM";
        var run = _p.Start(_p.BaseDir, "run", _p.StorePath, "--branch", branch, "--", "bash", "-c",
            $"{trap}; echo unsynced > pending-{branch}.txt; sleep {marker} & echo ready; wait");
        SandboxProject.WaitForLine(run, "ready");
        return (run, marker);
    }

    /// <summary>Right when stop returned (no waiting): nothing of the sandbox runs, no mount, the branch is free.</summary>
    private void AssertEnded(Process run, string marker, string branch = "main", bool anotherAtThePath = false)
    {
        Assert.True(run.HasExited || run.WaitForExit(1000), "agentfs run still runs after stop returned");
        Assert.Empty(SandboxProject.ProcessesWith("sleep " + marker));
        if (!anotherAtThePath) Assert.Empty(SandboxProject.ProcessesSeeingMountAt(_p.BaseDir));
        Assert.DoesNotContain($"\t{branch}\t{_p.BaseDir}\t{run.Id}\t", _p.Agent("status").Stdout);
        Assert.Equal("unsynced\n", _p.Agent("fs", _p.StorePath, "cat", $"pending-{branch}.txt", "--branch", branch).Stdout);
        var again = _p.Agent("run", _p.StorePath, "--branch", branch, "--", "true");
        Assert.True(again.ExitCode == 0, again.ToString());
    }

    [Fact]
    public void Stop_by_store_sends_SIGTERM_commits_and_frees_the_branch()
    {
        var (run, marker) = StartSandbox();
        var stop = _p.Agent("stop", _p.StorePath);
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Equal("", stop.Stdout + stop.Stderr);
        AssertEnded(run, marker);
        Assert.Equal(0, run.ExitCode); // the command's own exit: its trap ran and exited 0
        Assert.Equal("got TERM\n", _p.Agent("fs", _p.StorePath, "cat", "term.txt").Stdout);
    }

    [Fact]
    public void Unmount_of_the_sandbox_path_ends_it_like_stop()
    {
        var (run, marker) = StartSandbox();
        var unmount = _p.Agent("unmount", _p.BaseDir);
        Assert.True(unmount.ExitCode == 0, unmount.ToString());
        AssertEnded(run, marker);
        Assert.Equal("got TERM\n", _p.Agent("fs", _p.StorePath, "cat", "term.txt").Stdout);
    }

    [Fact]
    public void Stop_by_pid_kills_a_command_that_ignores_SIGTERM_after_the_grace()
    {
        var (run, marker) = StartSandbox(ignoreTerm: true);
        var sw = Stopwatch.StartNew();
        var stop = _p.Agent("stop", run.Id.ToString());
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.InRange(sw.Elapsed.TotalSeconds, 4, 30); // the 5 s grace, then SIGKILL
        AssertEnded(run, marker);
        Assert.Equal(137, run.ExitCode);
    }

    [Fact]
    public void Two_sandboxes_at_one_path_need_a_branch_and_nothing_running_is_one_line()
    {
        _p.Agent("stop", _p.StorePath).IsUserError("no sandbox", "branch main", _p.StorePath, "agentfs status");
        _p.Agent("stop", _p.BaseDir).IsUserError("no sandbox", _p.BaseDir);
        _p.Agent("unmount", _p.BaseDir).IsUserError(_p.BaseDir, "not mounted");

        Assert.Equal("1\n", _p.Agent("checkpoint", _p.StorePath).Stdout);
        Assert.Equal(0, _p.Agent("branch", _p.StorePath, "other", "--from", "1").ExitCode);
        var (main, mainMarker) = StartSandbox();
        var (other, otherMarker) = StartSandbox(branch: "other");
        _p.Agent("stop", _p.BaseDir).IsUserError("2 sandboxes", _p.BaseDir, "main", "other", "--branch");
        _p.Agent("unmount", _p.BaseDir).IsUserError("2 sandboxes", _p.BaseDir, "--branch");

        var stop = _p.Agent("stop", _p.BaseDir, "--branch", "other");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        AssertEnded(other, otherMarker, "other", anotherAtThePath: true);
        Assert.False(main.HasExited, "stopping branch other ended the sandbox of main");
        Assert.Equal(0, _p.Agent("stop", _p.StorePath).ExitCode);
        AssertEnded(main, mainMarker);
    }
}
