using System.Text.RegularExpressions;

namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// The POSIX conformance of the mount, checked by pjdfstest run as root inside a mount with allow_other and
/// default_permissions (how every mount is made): the suite switches users and groups, so ownership,
/// permission checks (with ACLs), set-id bits, times, links, renames and name limits are all exercised.
/// A full run takes 3 to 5 minutes on a 2-core machine.
/// </summary>
public class PjdfstestTests(PjdfstestBuild suite) : IClassFixture<PjdfstestBuild>
{
    /// <summary>Every FUSE mount passes this many (ext4 runs 8,827: rename/22.t needs EXT4, UFS or ZFS).</summary>
    private const int FullSuiteTests = 8798;

    [Fact]
    public void TheWholeSuitePassesOnAFreshStore()
    {
        using var m = new MountedStore();
        m.Sh($"chmod 755 {m.Root} {m.MountPoint}");
        var (files, tests) = Prove(m, m.MountPoint, "tests");
        Assert.True(files >= 238, $"prove ran {files} test files, expected the whole suite (238)");
        Assert.True(tests >= FullSuiteTests, $"prove ran {tests} tests, expected at least {FullSuiteTests}");
    }

    [Fact]
    public void PermissionAndNamespaceTestsPassInADirectoryOfTheBase()
    {
        // The suite's files are new, but the directory they are made in, and its neighbours, are base objects:
        // lookups fall through to the base, and removals of names next to base names leave the base alone.
        using var m = new MountedStore(b =>
        {
            Directory.CreateDirectory(Path.Combine(b, "work", "sub"));
            for (int i = 0; i < 20; i++) File.WriteAllText(Path.Combine(b, "work", $"base-{i}.txt"), $"file {i}\n");
        });
        m.Sh($"chmod 755 {m.Root} {m.MountPoint} {m.P("work")}");
        var (_, tests) = Prove(m, m.P("work"), "tests/chmod", "tests/open", "tests/unlink", "tests/mkdir");
        Assert.True(tests > 1000, $"prove ran {tests} tests");
        Assert.Equal(21, Directory.EnumerateFileSystemEntries(m.P("work")).Count());
    }

    /// <summary>Runs prove over the given parts of the suite in <paramref name="cwd"/>; fails unless all passed.</summary>
    private (int Files, int Tests) Prove(MountedStore m, string cwd, params string[] parts)
    {
        string dirs = string.Join(' ', parts.Select(p => Path.Combine(suite.Directory, p)));
        string output;
        try { output = m.Sh($"prove -r {dirs} 2>&1", cwd: cwd, timeoutSeconds: 1500); }
        catch (Xunit.Sdk.XunitException e)
        {
            // prove exits non-zero on a failure: show the failing tests, not the whole log.
            string failing = string.Join('\n', e.Message.Split('\n').Where(l => !l.EndsWith(" ok", StringComparison.Ordinal)).TakeLast(80));
            throw new Xunit.Sdk.XunitException($"pjdfstest failed on the mount:\n{failing}");
        }
        Assert.Contains("Result: PASS", output);
        var counts = Regex.Match(output, @"Files=(\d+), Tests=(\d+)");
        Assert.True(counts.Success, $"no totals in prove's output:\n{output}");
        return (int.Parse(counts.Groups[1].Value), int.Parse(counts.Groups[2].Value));
    }
}
