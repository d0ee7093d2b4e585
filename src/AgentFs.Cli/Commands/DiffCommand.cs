using System.CommandLine;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs diff STORE [--branch B] [--from REF] [--to REF] [--name-status|--stat] [--json]</c>: what changed
/// between two states (REF: <c>base</c>, a checkpoint id, a branch name; default base to the branch head).
/// Text is git's: a unified diff (binary files as "Binary files ... differ"; <c>agentfs patch</c> writes them in
/// full), <c>--name-status</c> lines, or <c>--stat</c>. <c>--json</c> lists every change, directories and
/// permission bits git does not keep included. Opens the store read-only.
/// </summary>
internal static class DiffCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var branch = CommonOptions.Branch();
        var (from, to) = CommonOptions.RefOptions();
        var nameStatus = new Option<bool>("--name-status") { Description = "One line per changed path: A, D, M, T or R100, then the path(s)" };
        var stat = new Option<bool>("--stat") { Description = "Lines added and deleted per file, and a summary (git's --stat)" };
        var json = CommonOptions.Json();
        var includeVcs = CommonOptions.IncludeVcs();
        var cmd = new Command("diff", "Show what changed between two states (default: base to the branch head)")
        {
            store, branch, from, to, nameStatus, stat, json, includeVcs,
        };
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(nameStatus) && r.GetValue(stat)) r.AddError("--name-status and --stat exclude each other");
        });
        cmd.SetAction(r =>
        {
            string fromRef = r.GetValue(from)!, toRef = r.GetValue(to) ?? r.GetValue(branch)!;
            using var s = StoreAccess.OpenForReading(r.GetValue(store)!);
            var options = new DiffOptions { IncludeVcs = r.GetValue(includeVcs) };
            int vcsLeftOut;
            if (r.GetValue(json))
            {
                List<ChangeJson> entries;
                if (r.GetValue(stat))
                {
                    var stats = s.DiffStat(fromRef, toRef, options);
                    entries = stats.Select(f => ChangeJson.From(f.Change, f.ShownByGit ? f : null)).ToList();
                    vcsLeftOut = stats.VcsLeftOut;
                }
                else
                {
                    var changes = s.Diff(fromRef, toRef, options);
                    entries = changes.Select(c => ChangeJson.From(c, null)).ToList();
                    vcsLeftOut = changes.VcsLeftOut;
                }
                io.WriteJson(new DiffJson(fromRef, toRef, entries, vcsLeftOut), CliJson.Document.DiffJson);
                return Program.ExitOk;
            }
            else if (r.GetValue(nameStatus))
            {
                var changes = s.Diff(fromRef, toRef, options);
                foreach (var line in GitFormat.NameStatus(changes)) io.Out.WriteLine(line);
                vcsLeftOut = changes.VcsLeftOut;
            }
            else if (r.GetValue(stat))
            {
                var stats = s.DiffStat(fromRef, toRef, options);
                foreach (var line in GitFormat.Stat(stats)) io.Out.WriteLine(line);
                vcsLeftOut = stats.VcsLeftOut;
            }
            else
            {
                io.FlushText();
                vcsLeftOut = s.WritePatch(fromRef, toRef, io.Stdout, new PatchOptions { BinaryPatches = false, IncludeVcs = options.IncludeVcs }).VcsLeftOut;
                io.Stdout.Flush();
            }
            CommonOptions.ReportVcsLeftOut(io, vcsLeftOut);
            return Program.ExitOk;
        });
        return cmd;
    }

    /// <summary><c>diff --json</c>: every change, sorted by path, and how many inside .git, .hg or .jj were left out.</summary>
    internal sealed record DiffJson(string From, string To, IReadOnlyList<ChangeJson> Changes, int VcsLeftOut);

    /// <summary>One change. status: added, deleted, modified, type_changed, renamed. Sides that do not exist are null.
    /// insertions, deletions and binary are filled with --stat for what git shows (null otherwise).</summary>
    internal sealed record ChangeJson(string Status, string Path, string? OldPath, string Type, string? OldType, string? Mode, string? OldMode,
        long? Size, long? OldSize, string? Target, string? OldTarget, bool ContentChanged, bool ModeChanged,
        long? Insertions, long? Deletions, bool? Binary)
    {
        public static ChangeJson From(FileChange c, FileStat? stat) => new(
            c.Kind switch
            {
                ChangeKind.Added => "added", ChangeKind.Deleted => "deleted", ChangeKind.Renamed => "renamed",
                ChangeKind.TypeChanged => "type_changed", _ => "modified",
            },
            c.Path, c.OldPath,
            Output.Formats.Type((c.New ?? c.Old)!.Mode), c.Old == null ? null : Output.Formats.Type(c.Old.Mode),
            c.New == null ? null : Output.Formats.Mode(c.New.Mode), c.Old == null ? null : Output.Formats.Mode(c.Old.Mode),
            c.New?.Size, c.Old?.Size, c.New?.LinkTarget, c.Old?.LinkTarget, c.ContentChanged, c.ModeChanged,
            stat?.Insertions, stat?.Deletions, stat?.IsBinary);
    }
}
