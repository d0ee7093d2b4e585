using System.Diagnostics;
using System.Text;

namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// xfstests' fsx and fsstress from the shared tools directory (<c>&lt;repo&gt;/../shared/tools/xfstests</c>, or
/// AGENTFS_TOOLS), copied into a scratch directory first (the tools directory is read-only in CI). A missing
/// tool fails the test with a message that says what to provide; it never skips.
/// </summary>
public static class Xfstests
{
    public static string ToolsDirectory
    {
        get
        {
            if (Environment.GetEnvironmentVariable("AGENTFS_TOOLS") is { Length: > 0 } env) return env;
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "AgentFs.sln")))
                    return Path.GetFullPath(Path.Combine(d.FullName, "..", "shared", "tools"));
            throw new InvalidOperationException("repository root not found");
        }
    }

    /// <summary>Copies fsx or fsstress into dir and returns the copy's path.</summary>
    public static string CopyTool(string name, string dir)
    {
        string source = Path.Combine(ToolsDirectory, "xfstests", name);
        if (!File.Exists(source))
            throw new Xunit.Sdk.XunitException(
                $"{source} is missing: these tests need xfstests' {name} (see shared/tools/README.md); put the tools directory beside the repository or set AGENTFS_TOOLS");
        string copy = Path.Combine(dir, name);
        File.Copy(source, copy, overwrite: true);
        File.SetUnixFileMode(copy, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return copy;
    }

    /// <summary>
    /// A scratch directory on tmpfs when there is one: fsx's mapped writes end in msync(MS_SYNC), that is an fsync
    /// and a durable SQLite commit each, and on a busy disk those make the run ten times slower without testing
    /// anything more (what the store keeps does not depend on the device under it).
    /// </summary>
    public static string? FastScratchParent => Directory.Exists("/dev/shm") ? "/dev/shm" : null;

    /// <summary>The result of a program run to the end: exit status and the merged output.</summary>
    public sealed record Run(int ExitCode, string Output, TimeSpan Duration);

    /// <summary>Runs a program to its end (killed after the timeout), collecting stdout and stderr together.</summary>
    public static Run Execute(string program, IEnumerable<string> args, string workingDirectory, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var output = new StringBuilder();
        var sw = Stopwatch.StartNew();
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(true);
            p.WaitForExit();
            lock (output) return new Run(-1, $"timed out after {timeout}\n{output}", sw.Elapsed);
        }
        p.WaitForExit();
        lock (output) return new Run(p.ExitCode, output.ToString(), sw.Elapsed);
    }

    /// <summary>
    /// What a directory tree shows, one line per entry sorted by path: type, permission bits, owner, size,
    /// link count, symlink target and, for regular files, the SHA-256 of the content (find and sha256sum, so it
    /// reads through the mount like any program).
    /// </summary>
    public static string Manifest(string dir)
    {
        var r = Execute("bash", ["-c",
            "set -eo pipefail; export LC_ALL=C; " +
            "find . -mindepth 1 -printf '%P|%y|%m|%U:%G|%s|%n|%l\\n' | sort; " +
            "find . -type f -print0 | xargs -0 -r -P 4 -n 64 sha256sum | sort -k 2"], dir, TimeSpan.FromMinutes(5));
        if (r.ExitCode != 0) throw new Xunit.Sdk.XunitException($"listing {dir} failed ({r.ExitCode}): {r.Output}");
        return r.Output;
    }

    /// <summary>The lines of two manifests that differ, as "-before" / "+after", at most max of them.</summary>
    public static string ManifestDifference(string before, string after, int max = 40)
    {
        var a = before.Split('\n').ToHashSet();
        var b = after.Split('\n').ToHashSet();
        var lines = a.Except(b).Select(l => "-" + l).Concat(b.Except(a).Select(l => "+" + l)).OrderBy(l => l[1..], StringComparer.Ordinal).ToList();
        return lines.Count == 0 ? "" : $"{lines.Count} lines differ:\n" + string.Join('\n', lines.Take(max));
    }

    /// <summary>sqlite3's PRAGMA integrity_check of a store file (not mounted, or mounted: WAL readers are fine).</summary>
    public static string IntegrityCheck(string store)
    {
        var r = Execute("sqlite3", [store, "PRAGMA integrity_check"], Path.GetDirectoryName(store)!, TimeSpan.FromMinutes(2));
        if (r.ExitCode != 0) throw new Xunit.Sdk.XunitException($"sqlite3 {store} failed: {r.Output}");
        return r.Output.Trim();
    }
}
