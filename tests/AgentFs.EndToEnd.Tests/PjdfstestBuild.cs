using System.Diagnostics;

namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// pjdfstest (POSIX conformance suite) built once per test run into a temporary directory, from the copy in
/// the shared tools (<c>&lt;repository&gt;/../shared/tools</c>, or <c>$AGENTFS_TOOLS</c>). Missing tools fail
/// the tests that need them, with a message saying where they were looked for: never a silent skip.
/// </summary>
public sealed class PjdfstestBuild : IDisposable
{
    private readonly Lazy<string> _directory;
    private string? _built;

    public PjdfstestBuild() => _directory = new Lazy<string>(Build);

    /// <summary>The built suite; its tests are in <c>Directory/tests</c>. Builds on first use.</summary>
    public string Directory => _directory.Value;

    public static string ToolsDirectory()
    {
        string? over = Environment.GetEnvironmentVariable("AGENTFS_TOOLS");
        string dir = over is { Length: > 0 } ? over : Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "tools"));
        if (!File.Exists(Path.Combine(dir, "build-pjdfstest.sh")))
            throw new Xunit.Sdk.XunitException(
                $"the test tools are missing: no build-pjdfstest.sh in {dir}; put the shared tools beside the repository (../shared/tools) or set AGENTFS_TOOLS");
        return dir;
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "AgentFs.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    private string Build()
    {
        string script = Path.Combine(ToolsDirectory(), "build-pjdfstest.sh");
        string outDir = System.IO.Directory.CreateTempSubdirectory("agentfs-pjdfstest-").FullName;
        _built = outDir;
        using var p = Process.Start(new ProcessStartInfo("bash", [script, outDir])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(600_000))
        {
            p.Kill(true);
            throw new Xunit.Sdk.XunitException($"building pjdfstest with {script} took over 10 minutes");
        }
        if (p.ExitCode != 0 || !File.Exists(Path.Combine(outDir, "pjdfstest")))
            throw new Xunit.Sdk.XunitException($"building pjdfstest with {script} failed (exit {p.ExitCode}):\n{output}\n{err.Result}");
        return outDir;
    }

    public void Dispose()
    {
        if (_built != null)
            try { System.IO.Directory.Delete(_built, true); } catch { }
    }
}
