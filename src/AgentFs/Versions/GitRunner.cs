using System.Diagnostics;
using System.Text;

namespace AgentFs.Versions;

/// <summary>
/// Runs the <c>git</c> command. Every run is isolated from the environment it was started in: no system or global
/// configuration (a user's format.signature or alias must not change what we write), no GIT_DIR, GIT_INDEX_FILE or
/// other repository variables inherited from a caller that is itself a git hook, and no pager or prompt.
/// </summary>
internal static class GitRunner
{
    public readonly record struct Result(int ExitCode, byte[] Stdout, string Stderr)
    {
        public string Text => Encoding.UTF8.GetString(Stdout);
        public string FirstErrorLine => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault(l => !l.StartsWith("hint:", StringComparison.Ordinal)) ?? $"exit code {ExitCode}";
    }

    /// <param name="workingDirectory">Where git runs (-C); null: the current directory.</param>
    /// <param name="environment">Extra variables (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, author and committer).</param>
    /// <param name="stdin">Bytes written to git's standard input; null: none.</param>
    /// <param name="stdout">Where standard output goes; null: collected into <see cref="Result.Stdout"/>.</param>
    public static Result Run(string? workingDirectory, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null,
        byte[]? stdin = null, Stream? stdout = null)
    {
        var psi = new ProcessStartInfo("git")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory != null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.ToList())
            if (key.StartsWith("GIT_", StringComparison.Ordinal)) psi.Environment.Remove(key);
        psi.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        psi.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        psi.Environment["GIT_PAGER"] = "cat";
        psi.Environment["GIT_OPTIONAL_LOCKS"] = "0";
        psi.Environment["LC_ALL"] = "C";
        if (environment != null)
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new AgentFsException(Errno.ENOENT, $"cannot run git ({e.Message}); install git (Debian package git) to export or apply a session's commits");
        }
        using (p)
        {
            var err = p.StandardError.ReadToEndAsync();
            var input = Task.Run(() =>
            {
                try
                {
                    if (stdin != null) p.StandardInput.BaseStream.Write(stdin);
                    p.StandardInput.Close();
                }
                catch (IOException) { } // git exited without reading all of it; its exit code says why
            });
            byte[] output = [];
            if (stdout != null) p.StandardOutput.BaseStream.CopyTo(stdout);
            else
            {
                using var ms = new MemoryStream();
                p.StandardOutput.BaseStream.CopyTo(ms);
                output = ms.ToArray();
            }
            p.WaitForExit();
            input.Wait();
            return new Result(p.ExitCode, output, err.Result);
        }
    }

    /// <summary>Runs git and returns its output; a failure is an <see cref="AgentFsException"/> whose message says what
    /// was being done (<paramref name="what"/>) and git's first line of complaint.</summary>
    public static Result Ok(string? workingDirectory, IReadOnlyList<string> args, string what, IReadOnlyDictionary<string, string>? environment = null,
        byte[]? stdin = null, Stream? stdout = null, int errno = Errno.EIO)
    {
        var r = Run(workingDirectory, args, environment, stdin, stdout);
        if (r.ExitCode != 0) throw new AgentFsException(errno, $"{what}: git {args.FirstOrDefault(a => !a.StartsWith('-') && !a.Contains('='))} failed: {r.FirstErrorLine}");
        return r;
    }
}
