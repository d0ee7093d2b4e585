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
        var cmd = new Command("diff", "Show what changed between two states (default: base to the branch head)")
        {
            store, branch, from, to, nameStatus, stat, json,
        };
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(nameStatus) && r.GetValue(stat)) r.AddError("--name-status and --stat exclude each other");
        });
        cmd.SetAction(r =>
        {
            string fromRef = r.GetValue(from)!, toRef = r.GetValue(to) ?? r.GetValue(branch)!;
            using var s = StoreAccess.OpenForReading(r.GetValue(store)!);
            if (r.GetValue(json))
            {
                var entries = r.GetValue(stat)
                    ? s.DiffStat(fromRef, toRef).Select(f => ChangeJson.From(f.Change, f.ShownByGit ? f : null))
                    : s.Diff(fromRef, toRef).Select(c => ChangeJson.From(c, null));
                io.WriteJson(new DiffJson(fromRef, toRef, entries.ToList()));
            }
            else if (r.GetValue(nameStatus))
            {
                foreach (var line in GitFormat.NameStatus(s.Diff(fromRef, toRef))) io.Out.WriteLine(line);
            }
            else if (r.GetValue(stat))
            {
                foreach (var line in GitFormat.Stat(s.DiffStat(fromRef, toRef))) io.Out.WriteLine(line);
            }
            else
            {
                io.FlushText();
                s.WritePatch(fromRef, toRef, io.Stdout, new PatchOptions { BinaryPatches = false });
                io.Stdout.Flush();
            }
            return Program.ExitOk;
        });
        return cmd;
    }

    /// <summary><c>diff --json</c>: every change, sorted by path.</summary>
    internal sealed record DiffJson(string From, string To, IReadOnlyList<ChangeJson> Changes);

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
