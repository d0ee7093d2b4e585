using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace AgentFs.Sandbox.Tests;

/// <summary>The outcome of one `agentfs` run.</summary>
public sealed record RunResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>
/// A project directory (the base), a store over it, and the real `agentfs` command (./agentfs of this checkout)
/// to run sandboxes with. Everything lives under one temporary directory, removed afterwards; any process the
/// test started is killed.
/// </summary>
public sealed class SandboxProject : IDisposable
{
    public static readonly string RepoRoot = FindRepoRoot();
    public static readonly string Agentfs = Path.Combine(RepoRoot, "agentfs");

    /// <summary>Pids of the agentfs processes started (a Process object may be disposed by the test already).</summary>
    private readonly List<int> _started = [];

    public SandboxProject(Action<string>? fillBase = null)
    {
        Root = Directory.CreateTempSubdirectory("agentfs-sandbox-").FullName;
        BaseDir = Path.Combine(Root, "project");
        StorePath = Path.Combine(Root, "session.agentfs");
        Directory.CreateDirectory(BaseDir);
        File.WriteAllText(Path.Combine(BaseDir, "README"), "the project\n");
        Directory.CreateDirectory(Path.Combine(BaseDir, "src"));
        File.WriteAllText(Path.Combine(BaseDir, "src", "main.c"), "int main(void) { return 0; }\n");
        fillBase?.Invoke(BaseDir);
        var init = Agent("init", StorePath, "--base", BaseDir);
        Assert.True(init.ExitCode == 0, init.ToString());
    }

    public string Root { get; }
    public string BaseDir { get; }
    public string StorePath { get; }

    public string PathIn(string relative) => Path.Combine(Root, relative);

    /// <summary>agentfs run STORE [options] -- bash -c SCRIPT.</summary>
    public RunResult RunScript(string script, params string[] options) =>
        Agent([.. (string[])["run", StorePath], .. options, "--", "bash", "-c", script]);

    /// <summary>Runs agentfs with these arguments to its end (cwd: the project unless given).</summary>
    public RunResult Agent(params string[] args) => AgentIn(BaseDir, args);

    public RunResult AgentIn(string cwd, params string[] args)
    {
        using var p = Start(cwd, args);
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(true);
            throw new Xunit.Sdk.XunitException($"timed out: agentfs {string.Join(' ', args)}");
        }
        p.WaitForExit();
        return new RunResult(p.ExitCode, output.Result, err.Result);
    }

    /// <summary>Starts agentfs (./agentfs execs the program: the pid is agentfs's own); stdin is /dev/null.</summary>
    public Process Start(string cwd, params string[] args)
    {
        // Through env --default-signal: a test runner started in the background by a shell without job control
        // (as CI may be) has SIGINT and SIGQUIT ignored, and agentfs run rightly keeps a signal it inherited
        // ignored, as a background job must; the tests of its signal handling need the default.
        var psi = new ProcessStartInfo("env")
        {
            WorkingDirectory = cwd,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        psi.ArgumentList.Add("--default-signal");
        psi.ArgumentList.Add(Agentfs);
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["GIT_AUTHOR_NAME"] = psi.Environment["GIT_COMMITTER_NAME"] = "t";
        psi.Environment["GIT_AUTHOR_EMAIL"] = psi.Environment["GIT_COMMITTER_EMAIL"] = "t@example.com";
        var p = Process.Start(psi)!;
        p.StandardInput.Close();
        lock (_started) _started.Add(p.Id);
        return p;
    }

    /// <summary>Reads lines of a started process's stdout until one equals <paramref name="line"/>.</summary>
    public static void WaitForLine(Process p, string line, int timeoutMs = 60_000)
    {
        var read = Task.Run(() =>
        {
            string? l;
            while ((l = p.StandardOutput.ReadLine()) != null)
                if (l == line) return true;
            return false;
        });
        if (!read.Wait(timeoutMs) || !read.Result)
            throw new Xunit.Sdk.XunitException($"never printed '{line}'; stderr: {(p.HasExited ? p.StandardError.ReadToEnd() : "(still running)")}");
    }

    /// <summary>Processes whose command line contains <paramref name="marker"/>, besides this test process.</summary>
    public static List<int> ProcessesWith(string marker)
    {
        var found = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == Environment.ProcessId) continue;
            try
            {
                string cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(marker, StringComparison.Ordinal)) found.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    /// <summary>Processes that have a mount at or below <paramref name="path"/> in their mount namespace.</summary>
    public static List<int> ProcessesSeeingMountAt(string path)
    {
        var found = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                foreach (string line in File.ReadLines(Path.Combine(dir, "mountinfo")))
                    if (line.Split(' ')[4].StartsWith(path, StringComparison.Ordinal)) { found.Add(pid); break; }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    /// <summary>Waits until <paramref name="condition"/> holds (up to 15 s).</summary>
    public static bool Eventually(Func<bool> condition, int timeoutMs = 15_000)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < timeoutMs)
        {
            if (condition()) return true;
            Thread.Sleep(50);
        }
        return condition();
    }

    /// <summary>A hash of a tree: every path, type, mode, size, symlink target and file content.</summary>
    public static string TreeHash(string root)
    {
        var sb = new StringBuilder();
        foreach (string path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(path);
            sb.Append(Path.GetRelativePath(root, path)).Append('|').Append(info.Attributes).Append('|')
                .Append(File.GetUnixFileMode(path)).Append('|').Append(info.LinkTarget).Append('|')
                .Append(File.GetLastWriteTimeUtc(path).Ticks).Append('|');
            if (info.LinkTarget == null && (info.Attributes & FileAttributes.Directory) == 0)
                sb.Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))));
            sb.Append('\n');
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    public void Dispose()
    {
        // SIGKILL of agentfs ends its sandbox too (that is tested); the cmdline check guards against a reused pid.
        lock (_started)
            foreach (int pid in _started)
                try
                {
                    if (File.ReadAllText($"/proc/{pid}/cmdline").Contains("AgentFs.Cli", StringComparison.Ordinal))
                        Process.GetProcessById(pid).Kill();
                }
                catch (Exception) { }
        try { Directory.Delete(Root, true); } catch (Exception) { }
    }

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "AgentFs.sln")) && File.Exists(Path.Combine(d.FullName, "agentfs"))) return d.FullName;
        throw new InvalidOperationException("cannot find the repository root (with ./agentfs) above " + AppContext.BaseDirectory);
    }
}
