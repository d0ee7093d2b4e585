using System.Diagnostics;
using System.Text.Json;
using AgentFs.Fuse;

namespace AgentFs.Cli.Tests;

/// <summary>
/// An unprivileged agent writes in a mount served by root and sets set-id bits on its files; root then applies
/// the branch. The target must not get root-owned set-id files with the agent's content unless asked for.
/// </summary>
public class ApplyTrustCommandTests
{
    private static void Sh(string script)
    {
        var p = Process.Start(new ProcessStartInfo("sh", ["-c", script]) { RedirectStandardError = true })!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{script}: exit {p.ExitCode}: {err}");
    }

    private static string ModeOf(string path) => Convert.ToString((int)File.GetUnixFileMode(path), 8);

    /// <summary>A store whose branch holds what user 65534 did through a real mount: a setuid and a setgid file,
    /// a setgid + sticky directory. Returns the target (a copy of the base).</summary>
    private static string AgentSetsSetIdBits(Sandbox sb)
    {
        // The unprivileged writer must reach the mount and write in its root (the base's root mode).
        string mnt = sb.PathIn("mnt");
        Directory.CreateDirectory(mnt);
        Sh($"chmod 755 {sb.Root} {mnt} && chmod 777 {sb.BaseDir}");
        var mount = AgentMount.Mount(sb.StorePath, mnt, new AgentMountOptions());
        try
        {
            Sh($"cd {mnt} && setpriv --reuid=65534 --regid=65534 --clear-groups sh -c " +
               "'echo evil > tool && chmod 4755 tool && echo g > gtool && chmod 2755 gtool && mkdir drop && chmod 3777 drop'");
            Assert.Equal("4755", ModeOf(Path.Combine(mnt, "tool"))); // the agent really did set it
        }
        finally { mount.Dispose(); }
        string target = sb.PathIn("target");
        Directory.CreateDirectory(target);
        Sh($"cp -a {sb.BaseDir}/. {target}");
        return target;
    }

    [Fact]
    public void Apply_as_root_leaves_out_setid_bits_an_unprivileged_agent_set_and_says_so()
    {
        using var sb = new Sandbox();
        string target = AgentSetsSetIdBits(sb);
        var r = Cli.Run("apply", sb.StorePath, target);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("agentfs: warning: left out the set-user-id, set-group-id and sticky bits on 3 paths (pass --keep-special-bits to write them): " +
                     "drop 3777 -> 0777, gtool 2755 -> 0755, tool 4755 -> 0755", r.Stderr.TrimEnd('\n'));
        Assert.Equal("755", ModeOf(Path.Combine(target, "tool")));
        Assert.Equal("evil\n", File.ReadAllText(Path.Combine(target, "tool")));
        Assert.Equal("755", ModeOf(Path.Combine(target, "gtool")));
        Assert.Equal("777", ModeOf(Path.Combine(target, "drop")));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Apply_json_lists_the_bits_left_out_and_keep_special_bits_writes_them()
    {
        using var sb = new Sandbox();
        string target = AgentSetsSetIdBits(sb);
        var doc = JsonDocument.Parse(Cli.Run("apply", sb.StorePath, target, "--dry-run", "--json").Ok().Stdout).RootElement;
        Assert.Equal(new[] { "drop 3777 0777", "gtool 2755 0755", "tool 4755 0755" },
            doc.GetProperty("dropped_special_bits").EnumerateArray()
                .Select(d => $"{d.GetProperty("path").GetString()} {d.GetProperty("requested_mode").GetString()} {d.GetProperty("applied_mode").GetString()}").Order());
        Assert.Contains(doc.GetProperty("steps").EnumerateArray(),
            s => s.GetProperty("path").GetString() == "tool" && s.GetProperty("mode").GetString() == "0755");

        Cli.Run("apply", sb.StorePath, target, "--keep-special-bits").Ok();
        Assert.Equal("4755", ModeOf(Path.Combine(target, "tool")));
        Assert.Equal("2755", ModeOf(Path.Combine(target, "gtool")));
        Assert.Equal("3777", ModeOf(Path.Combine(target, "drop")));
        sb.AssertBaseUnchanged();
    }
}
