using System.Diagnostics;

namespace AgentFs.Sandbox.Tests;

/// <summary>Nothing outlives `agentfs run`: no process, no mount, no lease; not even after SIGKILL.</summary>
public sealed class LifetimeTests : IDisposable
{
    private readonly SandboxProject _p = new();

    public void Dispose() => _p.Dispose();

    private static string Marker() => $"31{Random.Shared.Next(100000, 999999)}";

    /// <summary>Starts a sandbox that writes (and fsyncs) a file, leaves a background process and waits.</summary>
    private Process StartLongRunning(string marker, string trap = "")
    {
        var p = _p.Start(_p.BaseDir, "run", _p.StorePath, "--", "bash", "-c",
            $"{trap} echo before-signal > written.txt; sync written.txt; echo unsynced > pending.txt; sleep {marker} & echo ready; wait");
        SandboxProject.WaitForLine(p, "ready");
        Assert.NotEmpty(SandboxProject.ProcessesWith("sleep " + marker));
        return p;
    }

    private void AssertNothingLeft(string marker)
    {
        Assert.True(SandboxProject.Eventually(() => SandboxProject.ProcessesWith("sleep " + marker).Count == 0),
            "a process of the sandbox survived: " + string.Join(',', SandboxProject.ProcessesWith("sleep " + marker)));
        Assert.True(SandboxProject.Eventually(() => SandboxProject.ProcessesSeeingMountAt(_p.BaseDir).Count == 0),
            "a mount at the project survived in processes " + string.Join(',', SandboxProject.ProcessesSeeingMountAt(_p.BaseDir)));
        // The branch is free: another run takes it.
        var again = _p.Agent("run", _p.StorePath, "--", "cat", "written.txt");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal("before-signal\n", again.Stdout);
    }

    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("HUP", 129)]
    [InlineData("INT", 130)]
    public void A_signal_to_run_ends_every_process_commits_and_frees_the_branch(string signal, int expectedExit)
    {
        string marker = Marker();
        using var run = StartLongRunning(marker);
        Process.Start("kill", ["-" + signal, run.Id.ToString()])!.WaitForExit();
        Assert.True(run.WaitForExit(30_000), "agentfs run did not end after SIG" + signal);
        string stderr = run.StandardError.ReadToEnd();
        Assert.True(expectedExit == run.ExitCode, $"exit {run.ExitCode}: {stderr}");
        AssertNothingLeft(marker);
        // Writes still in the kernel's cache when the signal came were committed too.
        Assert.Equal("unsynced\n", _p.Agent("fs", _p.StorePath, "cat", "pending.txt").Stdout);
        Assert.Equal("the project\n", File.ReadAllText(Path.Combine(_p.BaseDir, "README")));
        Assert.False(File.Exists(Path.Combine(_p.BaseDir, "written.txt")));
    }

    [Fact]
    public void A_command_that_ignores_SIGTERM_is_killed_after_the_stop_timeout()
    {
        string marker = Marker();
        using var run = StartLongRunning(marker, trap: "trap '' TERM;");
        var sw = Stopwatch.StartNew();
        Process.Start("kill", ["-TERM", run.Id.ToString()])!.WaitForExit();
        Assert.True(run.WaitForExit(30_000), "agentfs run did not end");
        Assert.InRange(sw.Elapsed.TotalSeconds, 4, 20); // the 5 s grace, then SIGKILL
        AssertNothingLeft(marker);
    }

    [Fact]
    public void SIGKILL_of_run_leaves_no_process_no_mount_and_no_lease()
    {
        string marker = Marker();
        using var run = StartLongRunning(marker);
        var status = _p.Agent("status");
        Assert.Contains($"{_p.StorePath}\tmain\t{_p.BaseDir}\t{run.Id}\tnone\tbash -c", status.Stdout);
        run.Kill(); // SIGKILL
        run.WaitForExit();
        AssertNothingLeft(marker);
        Assert.DoesNotContain(_p.StorePath, _p.Agent("status").Stdout);
    }

    [Fact]
    public void A_second_run_of_the_same_branch_is_refused_naming_the_holder()
    {
        Assert.Equal("1\n", _p.Agent("checkpoint", _p.StorePath, "-m", "start").Stdout);
        string marker = Marker();
        using var first = StartLongRunning(marker);
        var second = _p.Agent("run", _p.StorePath, "--", "true");
        second.IsUserError("branch main", _p.StorePath, $"process {first.Id}");
        // Another branch runs beside it, at the same path: each sandbox has its own mount namespace.
        Assert.Equal(0, _p.Agent("branch", _p.StorePath, "other", "--from", "1").ExitCode);
        var other = _p.Agent("run", _p.StorePath, "--branch", "other", "--", "bash", "-c", "cat written.txt 2>/dev/null; cat README");
        Assert.True(other.ExitCode == 0, other.ToString());
        Assert.Equal("the project\n", other.Stdout);
        Process.Start("kill", ["-TERM", first.Id.ToString()])!.WaitForExit();
        Assert.True(first.WaitForExit(30_000));
        AssertNothingLeft(marker);
    }
}
