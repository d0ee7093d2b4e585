using System.CommandLine;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs apply STORE TARGET [--branch B] [--dry-run] [--keep-special-bits] [--json]</c>: writes the branch's changes since the base
/// into TARGET (usually the project the base was taken from). Refuses, listing every conflict and writing
/// nothing, where TARGET no longer matches what the branch was made against; never follows a symlink of
/// TARGET; replaces each file atomically. Prints one line per change (git's letters; directories end in
/// '/'), then a summary. Never creates set-user-id, set-group-id or sticky bits unless --keep-special-bits is
/// given (a warning lists those left out). Opens the store read-only.
/// </summary>
internal static class ApplyCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var target = new Argument<string>("TARGET") { Description = "Directory to write the changes into" };
        var branch = CommonOptions.Branch();
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Check and list what would be done; write nothing" };
        var keepSpecialBits = new Option<bool>("--keep-special-bits")
        {
            Description = "Also write the set-user-id, set-group-id and sticky bits the branch has (left out by default: they would be your privileges on the agent's files)",
        };
        var json = CommonOptions.Json();
        var includeVcs = CommonOptions.IncludeVcs();
        var gitBranch = new Option<string?>("--git-branch")
        {
            Description = "The branch the agent's commits (on the session's HEAD) get in the target's git repository (default: agentfs/BRANCH for each branch with new commits)",
            HelpName = "NAME",
        };
        var checkout = new Option<bool>("--checkout") { Description = "Make that branch the target repository's HEAD (its index reset to it; the files stay as applied)" };
        var cmd = new Command("apply", "Write a branch's changes into a directory, refusing where it no longer matches")
        {
            store, target, branch, dryRun, keepSpecialBits, json, includeVcs, gitBranch, checkout,
        };
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(includeVcs) && (r.GetValue(gitBranch) != null || r.GetValue(checkout)))
                r.AddError("--include-vcs copies .git as files; --git-branch and --checkout go with bringing the commits in as a branch (the default)");
        });
        cmd.SetAction(r =>
        {
            string b = r.GetValue(branch)!, dir = StoreAccess.CheckPath(r.GetValue(target)!, "target directory");
            bool dry = r.GetValue(dryRun);
            using var s = StoreAccess.OpenForReading(r.GetValue(store)!);
            ApplyResult result;
            try
            {
                result = Interruptible.Run("apply", "nothing was written to the target", token =>
                    TerminalProgress.Run(io, dry ? "checking" : "applying", progress =>
                        s.Apply(b, dir, new ApplyOptions
                            {
                                DryRun = dry, KeepSpecialBits = r.GetValue(keepSpecialBits), IncludeVcs = r.GetValue(includeVcs),
                                GitBranch = r.GetValue(gitBranch), Checkout = r.GetValue(checkout),
                            },
                            progress?.ForVersion(p => $"{p.Phase} {p.Path}"),
                            token)));
            }
            catch (AgentFsException e) when (r.GetValue(json) && ApplyStopped.TryGet(e, out var done, out var notDone))
            {
                // A script needs what is in the target now as data: the document, then the one line on stderr, exit 1.
                io.WriteJson(new ApplyStoppedJson(b, Path.GetFullPath(dir), DryRun: false, Applied: false, Program.OneLine(e.Message),
                    done.Select(Step).ToList(), notDone.Select(Step).ToList()), CliJson.Document.ApplyStoppedJson);
                throw;
            }
            if (r.GetValue(json))
            {
                io.WriteJson(new ApplyJson(b, result.Target, result.DryRun, result.Applied,
                    result.Changes.Select(c => DiffCommand.ChangeJson.From(c, null)).ToList(),
                    result.Actions.Select(Step).ToList(),
                    result.Skipped.Select(c => c.Path).ToList(),
                    result.DroppedBits.Select(d => new DroppedBitsJson(d.Path, Output.Formats.Mode(d.RequestedMode), Output.Formats.Mode(d.AppliedMode))).ToList(),
                    result.VcsLeftOut,
                    result.GitBranches.Select(g => new GitBranchJson(g.Repository, g.SourceRef, g.Branch, g.Commit, g.NewCommits)).ToList()), CliJson.Document.ApplyJson);
                return Program.ExitOk;
            }
            foreach (var c in result.Changes)
            {
                if (result.Skipped.Contains(c)) continue;
                string slash = c.IsDirectory ? "/" : "";
                io.Out.WriteLine(c.Kind == ChangeKind.Renamed
                    ? $"R\t{GitFormat.QuotePath(c.RawOldPath)}\t{GitFormat.QuotePath(c.RawPath)}"
                    : $"{GitFormat.Status(c)[..1]}\t{GitFormat.QuotePath(c.RawPath)}{slash}");
            }
            int n = result.Changes.Count - result.Skipped.Count;
            string changes = n == 1 ? "1 change" : $"{n} changes";
            io.Out.WriteLine(dry
                ? $"dry run: {changes} of branch {b} would be applied to {result.Target}; nothing was written"
                : $"applied {changes} of branch {b} to {result.Target}");
            foreach (var g in result.GitBranches)
                io.Out.WriteLine($"{(dry ? "would bring" : "brought")} {g.NewCommits} commit{(g.NewCommits == 1 ? "" : "s")} of {g.SourceRef} into {g.Repository} as branch {g.Branch}" +
                    (r.GetValue(checkout) && !dry ? "" : " (HEAD and index untouched)"));
            if (result.VcsLeftOut > 0 && result.GitBranches.Count == 0)
                io.Out.WriteLine($"left out {result.VcsLeftOut} change{(result.VcsLeftOut == 1 ? "" : "s")} inside version-control directories (.git, .hg, .jj) and found no new commits to bring in; --include-vcs copies them as files");
            if (result.Skipped.Count > 0)
                io.Error.WriteLine($"agentfs: warning: left out {result.Skipped.Count} special file{(result.Skipped.Count == 1 ? "" : "s")} " +
                                   $"(fifos, sockets, devices): {string.Join(", ", result.Skipped.Take(20).Select(c => Program.OneLine(c.Path)))}");
            if (result.DroppedBits.Count > 0)
                io.Error.WriteLine($"agentfs: warning: left out the set-user-id, set-group-id and sticky bits on {result.DroppedBits.Count} " +
                                   $"path{(result.DroppedBits.Count == 1 ? "" : "s")} (pass --keep-special-bits to write them): " +
                                   $"{string.Join(", ", result.DroppedBits.Take(20).Select(d => Program.OneLine(d.ToString())))}" +
                                   (result.DroppedBits.Count > 20 ? $" and {result.DroppedBits.Count - 20} more" : ""));
            return Program.ExitOk;
        });
        return cmd;
    }

    private static StepJson Step(ApplyAction a) =>
        new(StepName(a.Kind), a.Path, a.Kind is ApplyActionKind.Delete or ApplyActionKind.RemoveDirectory ? null : Output.Formats.Mode(a.Mode));

    private static string StepName(ApplyActionKind k) => k switch
    {
        ApplyActionKind.Delete => "delete",
        ApplyActionKind.RemoveDirectory => "remove_directory",
        ApplyActionKind.CreateDirectory => "create_directory",
        ApplyActionKind.WriteFile => "write_file",
        ApplyActionKind.WriteSymlink => "write_symlink",
        _ => "set_mode",
    };

    /// <summary><c>apply --json</c>: the changes, the steps in the order they run (or would run), and what was left out
    /// (special files in skipped; set-id and sticky bits in dropped_special_bits).</summary>
    internal sealed record ApplyJson(string Branch, string Target, bool DryRun, bool Applied, IReadOnlyList<DiffCommand.ChangeJson> Changes,
        IReadOnlyList<StepJson> Steps, IReadOnlyList<string> Skipped, IReadOnlyList<DroppedBitsJson> DroppedSpecialBits,
        int VcsLeftOut, IReadOnlyList<GitBranchJson> GitBranches);

    /// <summary>A branch made in a target git repository: repository, source ref in the session, branch, its commit, commits brought in.</summary>
    internal sealed record GitBranchJson(string Repository, string Source, string Branch, string Commit, int NewCommits);

    /// <summary><c>apply --json</c> when the apply stopped after it began writing (exit 1): error is the line also on
    /// stderr; done are the steps already in the target, in order, and not_done the steps that were not made.</summary>
    internal sealed record ApplyStoppedJson(string Branch, string Target, bool DryRun, bool Applied, string Error,
        IReadOnlyList<StepJson> Done, IReadOnlyList<StepJson> NotDone);

    /// <summary>A path written without the set-id or sticky bits the branch has: the mode asked for and the one written.</summary>
    internal sealed record DroppedBitsJson(string Path, string RequestedMode, string AppliedMode);

    /// <summary>One step: action (delete, remove_directory, create_directory, write_file, write_symlink, set_mode), path, mode.</summary>
    internal sealed record StepJson(string Action, string Path, string? Mode);
}
