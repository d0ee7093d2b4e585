using System.CommandLine;
using System.Security.Cryptography;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs patch STORE [--branch B] [--from REF] [--to REF] [-o FILE] [--json]</c>: the changes as a patch that
/// <c>git apply</c> takes (binary files in full, renames, modes, symlinks). To stdout, or to FILE, which appears
/// only when complete (written beside it, then renamed); then a summary line (or <c>--json</c>) says what it holds.
/// </summary>
internal static class PatchCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var branch = CommonOptions.Branch();
        var (from, to) = CommonOptions.RefOptions();
        var output = new Option<string?>("--output", "-o") { Description = "Write the patch to FILE instead of stdout", HelpName = "FILE" };
        var json = CommonOptions.Json();
        json.Description = "With -o: print a JSON summary of the patch written";
        var includeVcs = CommonOptions.IncludeVcs();
        var commits = new Option<bool>("--commits")
        {
            Description = "Write the agent's git commits as a 'git format-patch' series (an mbox for 'git am'), uncommitted changes last",
        };
        var repo = GitOptions.Repository();
        var cmd = new Command("patch", "Write the changes between two states as a git patch (default: base to the branch head)")
        {
            store, branch, from, to, output, json, includeVcs, commits, repo,
        };
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(commits) && (r.GetResult(from) is { Implicit: false } || r.GetValue(includeVcs)))
                r.AddError("--commits exports base to --to (or the branch head) as git commits; it takes no --from or --include-vcs");
            if (r.GetValue(repo) != null && !r.GetValue(commits)) r.AddError("--repo goes with --commits");
            if (r.GetValue(json) && r.GetValue(output) == null)
                r.AddError("--json needs -o FILE (without it the patch itself goes to stdout)");
        });
        cmd.SetAction(r =>
        {
            string fromRef = r.GetValue(from)!, toRef = r.GetValue(to) ?? r.GetValue(branch)!;
            string? file = r.GetValue(output);
            using var s = StoreAccess.OpenForReading(r.GetValue(store)!);
            if (r.GetValue(commits)) return WriteCommits(io, s, toRef, file, r.GetValue(repo), r.GetValue(json));
            var options = new PatchOptions { IncludeVcs = r.GetValue(includeVcs) };
            if (file == null || file == "-")
            {
                io.FlushText();
                var written = Interruptible.Run("patch", "the patch on stdout is incomplete", token =>
                    s.WritePatch(fromRef, toRef, io.Stdout, options, cancellationToken: token));
                io.Stdout.Flush();
                CommonOptions.ReportVcsLeftOut(io, written.VcsLeftOut);
                return Program.ExitOk;
            }
            string full = Path.GetFullPath(StoreAccess.CheckPath(file, "output file"));
            var summary = Interruptible.Run("patch", $"nothing was written to {full}", token =>
                TerminalProgress.Run(io, "writing patch", progress =>
                    WriteFile(full, stream => s.WritePatch(fromRef, toRef, stream, options,
                        progress: progress?.ForVersion(p => $"patch: {p.Path}"),
                        cancellationToken: token))));
            if (r.GetValue(json))
                io.WriteJson(new PatchJson(fromRef, toRef, full, summary.Files, summary.BinaryFiles, summary.LeftOut, summary.Bytes, summary.VcsLeftOut), CliJson.Document.PatchJson);
            else
            {
                string binary = summary.BinaryFiles > 0 ? $" ({summary.BinaryFiles} binary)" : "";
                string left = summary.LeftOut > 0
                    ? $"; left out {summary.LeftOut} change{(summary.LeftOut == 1 ? "" : "s")} git cannot express (special files, empty directories, permission bits other than x; 'agentfs diff --json' lists them)"
                    : "";
                string vcs = summary.VcsLeftOut > 0
                    ? $"; left out {summary.VcsLeftOut} change{(summary.VcsLeftOut == 1 ? "" : "s")} inside version-control directories (.git, .hg, .jj; --include-vcs keeps them, --commits exports the commits)"
                    : "";
                io.Out.WriteLine($"wrote {full}: {summary.Files} file{(summary.Files == 1 ? "" : "s")}{binary} changed from {fromRef} to {toRef}{left}{vcs}");
            }
            return Program.ExitOk;
        });
        return cmd;
    }

    /// <summary>Writes a file so that it appears only when complete: into a temporary file beside it, synced, then renamed over it.</summary>
    internal static T WriteFile<T>(string path, Func<Stream, T> write)
    {
        string? dir = Path.GetDirectoryName(path);
        if (dir == null || !Directory.Exists(dir))
            throw new AgentFsException(Errno.ENOENT, $"cannot write {path}: directory {dir} does not exist");
        if (Directory.Exists(path))
            throw new AgentFsException(Errno.EISDIR, $"cannot write {path}: it is a directory; pass a file name");
        // The rename below replaces a link (never following it: HostileInputTests), but must not replace a store
        // (the one the patch comes from, or another) with the patch.
        if (new FileInfo(path).LinkTarget == null && File.Exists(path) && AgentStore.IsStoreFile(path))
            throw new AgentFsException(Errno.EEXIST, $"cannot write {path}: it is an AgentFs store, which a patch or report never replaces; choose another path");
        string tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}.tmp");
        try
        {
            T result;
            // 0600: a patch carries the session's file contents, which the mount may deny other users.
            using (var f = new FileStream(tmp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                result = write(f);
                f.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
            return result;
        }
        catch (UnauthorizedAccessException)
        {
            throw new AgentFsException(Errno.EACCES, $"cannot write {path}: permission denied; choose a writable place");
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new AgentFsException(Errno.EIO, $"cannot write {path}: {e.Message}");
        }
        finally
        {
            try { File.Delete(tmp); } catch { }
        }
    }

    /// <summary><c>patch -o FILE --json</c>.</summary>
    internal sealed record PatchJson(string From, string To, string File, int Files, int BinaryFiles, int LeftOut, long Bytes, int VcsLeftOut);

    /// <summary><c>patch --commits</c>: the format-patch series of one repository, to stdout or FILE.</summary>
    private static int WriteCommits(CommandIo io, AgentStore s, string toRef, string? file, string? repo, bool json)
    {
        if (file == null || file == "-")
        {
            io.FlushText();
            s.WriteGitCommits(toRef, io.Stdout, repo);
            io.Stdout.Flush();
            return Program.ExitOk;
        }
        string full = Path.GetFullPath(StoreAccess.CheckPath(file, "output file"));
        var repository = WriteFile(full, stream => s.WriteGitCommits(toRef, stream, repo));
        int patches = repository.NewCommits + (repository.HasUncommittedChanges ? 1 : 0);
        if (json) io.WriteJson(GitOptions.ToJson(repository, full), CliJson.Document.RepositoryJson);
        else
            io.Out.WriteLine($"wrote {full}: {repository.NewCommits} commit{(repository.NewCommits == 1 ? "" : "s")} of git repository {repository.DisplayPath}" +
                (repository.HasUncommittedChanges ? " and its uncommitted changes as a last patch" : "") +
                $" ({patches} patch{(patches == 1 ? "" : "es")}; apply with git am)");
        return Program.ExitOk;
    }
}
