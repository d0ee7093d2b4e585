using System.Diagnostics;
using System.Text;

namespace AgentFs.Cli.Tests;

/// <summary>Builds the command through the repository's ./agentfs script once for the test class.</summary>
public sealed class ScriptFixture
{
    public ScriptFixture()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir != null && !(File.Exists(Path.Combine(dir, "agentfs")) && File.Exists(Path.Combine(dir, "AgentFs.sln"))))
            dir = Path.GetDirectoryName(dir);
        RepoRoot = dir ?? throw new InvalidOperationException("cannot find the repository root (the directory with ./agentfs) above " + AppContext.BaseDirectory);
        Script = Path.Combine(RepoRoot, "agentfs");
        // The first run may build the command (a Native AOT publish: minutes on a busy machine); later runs take the fast path.
        var warm = Run(null, null, TimeSpan.FromMinutes(20), ["--version"]);
        if (warm.ExitCode != 0) throw new InvalidOperationException("./agentfs --version failed: " + warm);
    }

    public string RepoRoot { get; }
    public string Script { get; }

    public CliResult Run(string? cwd, string? stdin, params string[] args) => Run(cwd, stdin, TimeSpan.FromSeconds(60), args);

    /// <summary>Runs ./agentfs as uid 65534 (nobody) through setpriv (util-linux), in /, stdin closed.</summary>
    public CliResult RunAsNobody(params string[] args)
    {
        const string Nobody = "65534";
        var psi = new ProcessStartInfo("setpriv")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            WorkingDirectory = "/",
        };
        foreach (var a in (string[])["--reuid=" + Nobody, "--regid=" + Nobody, "--clear-groups", Script, .. args])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        string stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "./agentfs as nobody did not finish");
        copy.Wait();
        return new CliResult(p.ExitCode, stdout.ToArray(), stderr);
    }

    public CliResult Run(string? cwd, string? stdin, TimeSpan timeout, string[] args, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(Script)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = cwd ?? Path.GetTempPath(),
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = new MemoryStream();
        var copyOut = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin != null) p.StandardInput.BaseStream.Write(Encoding.UTF8.GetBytes(stdin));
        p.StandardInput.Close();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"./agentfs {string.Join(' ', args)} did not finish in {timeout}");
        }
        copyOut.Wait();
        return new CliResult(p.ExitCode, stdout.ToArray(), stderr.Result);
    }
}

public class ScriptTests : IClassFixture<ScriptFixture>
{
    private readonly ScriptFixture _script;

    public ScriptTests(ScriptFixture script) => _script = script;

    [Fact]
    public void The_script_runs_the_main_job_as_a_process_from_any_directory()
    {
        using var sb = new Sandbox(init: false);
        // Relative paths, resolved against the caller's working directory, not the repository.
        _script.Run(sb.Root, null, "init", "store.agentfs", "--base", "base").Ok();
        _script.Run(sb.Root, "from stdin\n", "fs", "store.agentfs", "write", "/notes/today.txt").UserError("/notes");
        _script.Run(sb.Root, null, "fs", "store.agentfs", "mkdir", "/notes").Ok();
        _script.Run(sb.Root, "from stdin\n", "fs", "store.agentfs", "write", "/notes/today.txt").Ok();
        Assert.Equal("from stdin\n", _script.Run(sb.Root, null, "fs", "store.agentfs", "cat", "notes/today.txt").Ok().Stdout);
        var cp = _script.Run(sb.Root, null, "checkpoint", "store.agentfs", "-m", "notes", "--meta", "task=1").Ok();
        long id = long.Parse(cp.StdoutLines[^1]);
        Assert.StartsWith($"{id}\t", _script.Run(sb.Root, null, "log", "store.agentfs").Ok().StdoutLines[0]);
        _script.Run(sb.Root, null, "branch", "store.agentfs", "alt", "--from", id.ToString()).Ok();
        Assert.Equal(["alt", "main"], _script.Run(sb.Root, null, "branches", "store.agentfs").Ok().StdoutLines.Select(l => l.Split('\t')[0]));
        _script.Run(sb.Root, null, "fs", "store.agentfs", "rm", "-r", "/notes").Ok();
        _script.Run(sb.Root, null, "rollback", "store.agentfs", id.ToString()).Ok();
        Assert.Equal("from stdin\n", _script.Run(sb.Root, null, "fs", "store.agentfs", "cat", "/notes/today.txt").Ok().Stdout);
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void The_script_exits_1_on_user_errors_and_2_on_usage_errors_with_one_line()
    {
        using var sb = new Sandbox();
        _script.Run(null, null, "fs", sb.StorePath, "cat", "/missing").UserError("/missing");
        _script.Run(null, null, "log", sb.PathIn("nope.agentfs")).UserError("nope.agentfs", "does not exist");
        _script.Run(null, null, "rollback", sb.StorePath, "77").UserError("77");
        _script.Run(null, null, "no-such-command").UsageError("no-such-command");
        _script.Run(null, null, "fs", sb.StorePath).UsageError("fs --help");
        var help = _script.Run(null, null, "--help").Ok();
        Assert.Contains("checkpoint", help.Stdout);
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void AGENTFS_DEBUG_adds_the_stack_trace_after_the_one_line()
    {
        using var sb = new Sandbox(init: false);
        var env = new Dictionary<string, string> { ["AGENTFS_DEBUG"] = "1" };
        var r = _script.Run(null, null, TimeSpan.FromSeconds(60), ["log", sb.StorePath], env);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("agentfs: store ", r.StderrLines[0]);
        Assert.Contains("AgentFsException", r.Stderr);
        Assert.True(r.StderrLines.Length > 2, r.ToString());
    }

    [Fact]
    public void Concurrent_invocations_all_succeed()
    {
        using var sb = new Sandbox();
        var results = Enumerable.Range(0, 6).AsParallel().WithDegreeOfParallelism(6)
            .Select(i => _script.Run(null, null, "fs", sb.StorePath, "cat", "/a.txt")).ToList();
        Assert.All(results, r => Assert.Equal("hello\n", r.Ok().Stdout));
    }

    [Fact]
    public void When_up_to_date_the_script_runs_no_dotnet_command_but_the_program()
    {
        _script.Run(null, null, "--version").Ok();
        string shimDir = Directory.CreateTempSubdirectory("agentfs-shim-").FullName;
        try
        {
            string log = Path.Combine(shimDir, "calls.log");
            string realDotnet = FindOnPath("dotnet");
            string shim = Path.Combine(shimDir, "dotnet");
            File.WriteAllText(shim, $"#!/bin/sh\necho \"$*\" >> '{log}'\nexec '{realDotnet}' \"$@\"\n");
            File.SetUnixFileMode(shim, (UnixFileMode)Convert.ToInt32("755", 8));
            var env = new Dictionary<string, string> { ["PATH"] = shimDir + ":" + Environment.GetEnvironmentVariable("PATH") };
            _script.Run(null, null, TimeSpan.FromSeconds(60), ["--version"], env).Ok();
            // A native program (Native AOT) needs no dotnet at all; a ReadyToRun one, dotnet to run it, nothing else.
            var calls = File.Exists(log) ? File.ReadAllLines(log) : [];
            if (File.ReadLines(Path.Combine(_script.RepoRoot, ".agentfs-build", "stamp")).First().EndsWith(".dll", StringComparison.Ordinal))
                Assert.EndsWith("AgentFs.Cli.dll --version", Assert.Single(calls));
            else
                Assert.Empty(calls);
        }
        finally
        {
            Directory.Delete(shimDir, true);
        }
    }

    private static string FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{name} is not on PATH");
}
