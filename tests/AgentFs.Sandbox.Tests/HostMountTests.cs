namespace AgentFs.Sandbox.Tests;

/// <summary>
/// Other sessions mounted on the host are left out of the sandbox: bwrap's read-only view of / would otherwise
/// copy their mounts into the sandbox's namespace and keep them alive, so 'agentfs unmount' on the host could
/// not end them (their serving process would run on until the sandbox ended).
/// </summary>
public sealed class HostMountTests : IDisposable
{
    private readonly SandboxProject _p = new();

    public void Dispose() => _p.Dispose();

    [Fact]
    public void Another_session_mounted_on_the_host_is_not_in_the_sandbox_and_unmounts_while_it_runs()
    {
        string otherBase = _p.PathIn("other-base"), otherStore = _p.PathIn("other.agentfs"), mnt = _p.PathIn("other-mnt");
        Directory.CreateDirectory(otherBase);
        Directory.CreateDirectory(mnt);
        File.WriteAllText(Path.Combine(otherBase, "theirs.txt"), "theirs\n");
        Assert.Equal(0, _p.Agent("init", otherStore, "--base", otherBase).ExitCode);
        var mount = _p.Agent("mount", otherStore, mnt, "--background");
        Assert.True(mount.ExitCode == 0, mount.ToString());
        int servingPid = int.Parse(mount.Stdout.Trim().Split('\n')[^1]);
        try
        {
            Assert.Equal("theirs\n", File.ReadAllText(Path.Combine(mnt, "theirs.txt")));
            using var run = _p.Start(_p.BaseDir, "run", _p.StorePath, "--", "bash", "-c",
                $"echo entries $(ls -A {mnt} | wc -l); echo ready; sleep 600");
            string? seenInside = run.StandardOutput.ReadLine();
            Assert.Equal("ready", run.StandardOutput.ReadLine());

            var unmount = _p.Agent("unmount", mnt, "--timeout", "10");
            Assert.True(unmount.ExitCode == 0, unmount.ToString());
            Assert.False(Runs(servingPid), $"the other session's process {servingPid} still runs");
            Assert.False(run.HasExited, "the sandbox ended with the other session");
            Assert.Equal("entries 0", seenInside); // inside, the mountpoint was the empty directory under the mount
            Assert.Equal(0, _p.Agent("stop", _p.StorePath).ExitCode);
        }
        finally
        {
            if (Runs(servingPid)) _p.Agent("unmount", mnt);
        }
    }

    /// <summary>Whether the process runs (a zombie, ended but not yet reaped by whoever adopted it, does not).</summary>
    private static bool Runs(int pid)
    {
        try { return !File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z'); }
        catch (IOException) { return false; }
    }
}
