using System.Diagnostics;
using AgentFs.Fuse;

namespace AgentFs.Cli.Tests;

/// <summary>
/// `agentfs unmount` where it is not the mount's owner, or where its runtime directory cannot be trusted: with the
/// real ./agentfs, a real FUSE mount served by this (root) user, and setpriv (util-linux) for another user.
/// </summary>
public sealed class UnmountTrustTests : IClassFixture<ScriptFixture>
{
    private const string Nobody = "65534";
    private readonly ScriptFixture _script;

    public UnmountTrustTests(ScriptFixture script) => _script = script;

    private CliResult RunAsNobody(params string[] args) => _script.RunAsNobody(args);

    /// <summary>Mounts the store in the background with the given runtime directory; returns the serving pid.</summary>
    private int MountInBackground(Sandbox sb, string mp, Dictionary<string, string>? env = null)
    {
        var r = _script.Run(sb.Root, null, TimeSpan.FromSeconds(60), ["mount", sb.StorePath, mp, "--background"], env);
        Assert.True(r.ExitCode == 0, r.ToString());
        return int.Parse(r.Stdout.Trim());
    }

    private static void WaitGone(int pid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Directory.Exists($"/proc/{pid}") && DateTime.UtcNow < deadline) Thread.Sleep(50);
        Assert.False(Directory.Exists($"/proc/{pid}"), $"the serving process {pid} did not end");
    }

    private static void CleanUp(string mp, int pid)
    {
        if (AgentMount.IsMountPoint(mp)) Process.Start("umount", ["-l", mp])!.WaitForExit();
        try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { }
    }

    [Fact]
    public void Another_user_is_told_who_mounted_it_and_the_mount_stays()
    {
        using var sb = new Sandbox();
        File.SetUnixFileMode(sb.Root, (UnixFileMode)Convert.ToInt32("755", 8));
        string mp = sb.PathIn("mnt");
        Directory.CreateDirectory(mp);
        int pid = MountInBackground(sb, mp);
        try
        {
            File.WriteAllText(Path.Combine(mp, "new.txt"), "written through the mount\n");
            var r = RunAsNobody("unmount", mp).UserError(mp, "mounted by uid 0 (root)", $"agentfs unmount {mp}");
            Assert.DoesNotContain("close the files", r.Stderr);
            Assert.True(AgentMount.IsMountPoint(mp), "the mount went away");
            Assert.True(Directory.Exists($"/proc/{pid}"));

            _script.Run(sb.Root, null, "unmount", mp).Ok(); // its owner can
            Assert.False(AgentMount.IsMountPoint(mp));
            WaitGone(pid);
            Assert.Equal("written through the mount\n", sb.Cat("/new.txt"));
        }
        finally { CleanUp(mp, pid); }
        sb.AssertBaseUnchanged();
    }

    [Theory]
    [InlineData("writable by others")]
    [InlineData("a symlink")]
    public void A_runtime_directory_that_cannot_be_trusted_does_not_keep_the_mount_up(string hostility)
    {
        using var sb = new Sandbox();
        string mp = sb.PathIn("mnt");
        Directory.CreateDirectory(mp);
        string runtime = sb.PathIn("run");
        Directory.CreateDirectory(runtime, (UnixFileMode)Convert.ToInt32("700", 8));
        int pid = MountInBackground(sb, mp, new() { [AgentFs.Control.ControlPaths.OverrideVariable] = runtime });
        try
        {
            File.WriteAllText(Path.Combine(mp, "new.txt"), "written through the mount\n");
            string seen = runtime;
            if (hostility == "a symlink")
            {
                seen = sb.PathIn("run-link");
                File.CreateSymbolicLink(seen, runtime);
            }
            else File.SetUnixFileMode(runtime, (UnixFileMode)Convert.ToInt32("777", 8));

            var r = _script.Run(sb.Root, null, TimeSpan.FromSeconds(60), ["unmount", mp],
                new Dictionary<string, string> { [AgentFs.Control.ControlPaths.OverrideVariable] = seen });
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Single(r.StderrLines);
            Assert.StartsWith("agentfs: warning: ", r.Stderr);
            Assert.Contains(seen, r.Stderr);
            Assert.Contains("not trusted", r.Stderr);
            Assert.False(AgentMount.IsMountPoint(mp), "the mount is still there");

            WaitGone(pid); // it commits and ends on its own once unmounted
            Assert.Equal("written through the mount\n", sb.Cat("/new.txt"));
        }
        finally { CleanUp(mp, pid); }
        sb.AssertBaseUnchanged();
    }
}
