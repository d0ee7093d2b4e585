using System.Diagnostics;
using System.Text.Json;

namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// <c>agentfs ops --follow</c> on a real FUSE mount, with real processes making the changes: each operation is
/// printed as it is committed, named by the process that made it and by its path at the time (the kernel keeps
/// using the inodes it knows after a rename, looking nothing up again), and the command ends by itself when
/// the branch is unmounted.
/// </summary>
public class OpsFollowTests
{
    /// <remarks>Writes reach the mount through the kernel's writeback cache, which sends them later as pid 0: they
    /// are logged without a process. The last command is kept from being exec'd by the shell (the log names a pid
    /// by the name /proc gave it when first seen, and exec keeps the pid).</remarks>
    [Fact]
    public void Follow_prints_what_shell_commands_do_in_the_mount_and_ends_with_the_mount()
    {
        using var m = new MountedStore(b => File.WriteAllText(Path.Combine(b, "base.txt"), "base\n"));
        var psi = new ProcessStartInfo(MountedStore.AgentfsCommand) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "ops", m.StorePath, "--follow", "--json" }) psi.ArgumentList.Add(a);
        using var follow = Process.Start(psi)!;
        var lines = new List<string>();
        follow.OutputDataReceived += (_, e) => { if (e.Data != null) lock (lines) lines.Add(e.Data); };
        follow.BeginOutputReadLine();
        var stderr = follow.StandardError.ReadToEndAsync();
        try
        {
            m.Sh("mkdir work && echo hi > work/a && mv work done && echo more >> done/a && chmod 600 base.txt && true");
            Assert.True(SpinWait.SpinUntil(() => { lock (lines) return lines.Any(l => l.Contains("chmod")); }, TimeSpan.FromSeconds(90)),
                $"follow printed {lines.Count} lines: {string.Join('\n', lines)}\n{(follow.HasExited ? stderr.Result : "")}");
            Assert.False(follow.HasExited, "follow ended while the branch was still mounted");
        }
        finally
        {
            m.Unmount();
        }
        Assert.True(follow.WaitForExit(30_000), "follow did not end after the unmount");
        Assert.Equal(0, follow.ExitCode);
        var events = lines.Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (Op: e.GetProperty("op").GetString(), Path: e.GetProperty("path").GetString(), To: e.GetProperty("to").GetString(),
                Process: e.GetProperty("process").GetString()))
            .ToList();
        Assert.True(events.Count > 0, string.Join('\n', lines));
        Assert.Contains(("mkdir", "work", null, "mkdir"), events);
        Assert.Contains(events, e => e is { Op: "create", Path: "work/a" });
        Assert.Contains(events, e => e is { Op: "write", Path: "work/a" });
        Assert.Contains(("rename", "work", "done", "mv"), events);
        Assert.Contains(events, e => e is { Op: "write", Path: "done/a" });
        Assert.True(events.Contains(("setattr", "base.txt", null, "chmod")), string.Join('\n', lines));
        Assert.Equal(m.BaseHashBefore, MountedStore.TreeHash(m.BaseDir));
    }
}
