using System.Text;
using AgentFs.Cli.Commands;
using AgentFs.Cli.Output;
using AgentFs.Fuse;
using AgentFs.Sandbox;
using ModelContextProtocol.Protocol;

namespace AgentFs.Cli.Mcp;

/// <summary>
/// The tools of <c>agentfs mcp STORE --branch B</c>, one session's branch seen by its agent. Each does what the command
/// of the same name does, through the same library calls (and, while the branch is mounted or sandboxed, through its
/// control socket, as the commands do), and answers with the text that command prints. Changes act on the server's
/// branch only; the read tools can name any state (base, a checkpoint, another branch) with from/to. The store is
/// opened per call, read-only for the tools that only read, so the server holds no lease between calls.
/// </summary>
internal static class SessionTools
{
    /// <summary>The most a diff answer carries unless the call asks for another limit.</summary>
    public const int DefaultDiffBytes = 64 * 1024;
    public const int MaxDiffBytes = 4 * 1024 * 1024;

    public static IReadOnlyList<SessionTool> Create(string storePath, string branch)
    {
        var from = new ToolParameter("from", ToolParameterKind.Reference,
            "The older state: 'base' (the base directory), a checkpoint id, or a branch name (its head)");
        var to = new ToolParameter("to", ToolParameterKind.Reference,
            $"The newer state: 'base', a checkpoint id, or a branch name (default: the head of branch {branch})");
        return
        [
            new("checkpoint",
                $"Seal the current state of branch {branch} as a checkpoint (every file change so far, including those made by shell commands); " +
                "returns the new checkpoint's id. Take one before a risky step: rollback returns to it.",
                [
                    new("message", ToolParameterKind.String, "What this state is, e.g. 'tests pass' (shown by log)"),
                    new("meta", ToolParameterKind.StringMap, "Metadata kept with the checkpoint, e.g. {\"task\": \"fix-login\"}"),
                ],
                new ToolAnnotations { Title = "Checkpoint the session", ReadOnlyHint = false, DestructiveHint = false, IdempotentHint = false, OpenWorldHint = false },
                a => Checkpoint(storePath, branch, a)),
            new("rollback",
                $"Return branch {branch} to one of its checkpoints (ids from the log tool). Files change back at once, also in a mounted " +
                "or sandboxed session; changes made since the last checkpoint are lost (take a checkpoint first to keep them).",
                [
                    new("checkpoint", ToolParameterKind.Integer, "Id of a checkpoint in the branch's history (the log tool lists them)", Required: true) { Minimum = 1 },
                ],
                new ToolAnnotations { Title = "Roll the session back", ReadOnlyHint = false, DestructiveHint = true, IdempotentHint = true, OpenWorldHint = false },
                a => Rollback(storePath, branch, a)),
            new("branch",
                $"Create a new branch from a checkpoint or from a branch's current state (default: branch {branch}, which is checkpointed " +
                "first), to try an alternative; this session stays on its branch. Returns the checkpoint the new branch starts at.",
                [
                    new("name", ToolParameterKind.String, "Name of the new branch (letters, digits, '.', '_', '-', '/')", Required: true),
                    new("from", ToolParameterKind.Reference, $"A checkpoint id or a branch name (default: {branch})"),
                ],
                new ToolAnnotations { Title = "Create a branch", ReadOnlyHint = false, DestructiveHint = false, IdempotentHint = false, OpenWorldHint = false },
                a => Branch(storePath, branch, a)),
            new("diff",
                "What changed between two states, as git shows it: a unified diff (binary files as 'Binary files ... differ') or " +
                $"name-status lines (A, D, M, T, R100 and the path). Default: from base to the head of branch {branch}. Changes inside " +
                ".git, .hg and .jj are left out unless include_vcs. A diff longer than max_bytes is cut at a line end, with a note.",
                [
                    from, to,
                    new("format", ToolParameterKind.Choice, "unified (default) or name-status") { Values = ["unified", "name-status"] },
                    new("max_bytes", ToolParameterKind.Integer, $"The most bytes of diff to return (default {DefaultDiffBytes})")
                        { Minimum = 1024, Maximum = MaxDiffBytes, Default = DefaultDiffBytes },
                    new("include_vcs", ToolParameterKind.Boolean, "Keep the changes inside .git, .hg and .jj directories"),
                ],
                ReadOnly("Diff two states"),
                a => Diff(storePath, branch, a)),
            new("log",
                $"The checkpoints of branch {branch} (and of the branches it started from), newest first: one line each, " +
                "ID, time (UTC), branch, message and key=value metadata, separated by tabs.",
                [
                    new("limit", ToolParameterKind.Integer, "The most checkpoints to list, newest first (default 100)") { Minimum = 1, Maximum = 100_000, Default = 100 },
                ],
                ReadOnly("List checkpoints"),
                a => Log(storePath, branch, a)),
            new("ops",
                $"The operation log of branch {branch}: what changed, when, by which process, oldest first, one line each: time, " +
                "process[pid], op, path (OLD -> NEW for a rename), bytes; checkpoints appear as markers and the sandbox's network " +
                "events as op net. 'What happened in task 3' is from 3 to 4. With summary: totals per process and top-level directory.",
                [
                    new("from", ToolParameterKind.Reference, "Only what happened after this state: base, a checkpoint id, or a branch (since it was made)"),
                    new("to", ToolParameterKind.Reference, "Only what happened up to this state: a checkpoint id (when it was taken) or a branch (now)"),
                    new("since", ToolParameterKind.String, "Only what happened since this time: 2025-11-24T11:13:00Z, 2025-11-24, or ago: 30s, 10m, 2h, 3d"),
                    new("path", ToolParameterKind.String, "Only paths matching this glob, relative to the branch root ('*' also matches '/'; without wildcards: the path and everything under it)"),
                    new("pid", ToolParameterKind.Integer, "Only operations of this process id") { Minimum = 1, Maximum = int.MaxValue },
                    new("process", ToolParameterKind.String, "Only operations of processes of this name (as in /proc/PID/comm, at most 15 bytes)"),
                    new("op", ToolParameterKind.ChoiceList, "Only these operations") { Values = OperationSelection.AllOps },
                    new("summary", ToolParameterKind.Boolean, "Totals instead of events: operations, bytes written and files touched per process and per top-level directory"),
                    new("limit", ToolParameterKind.Integer, "The most events to return: the newest ones (default 200)") { Minimum = 1, Maximum = 100_000, Default = 200 },
                ],
                ReadOnly("Show the operation log"),
                a => Ops(storePath, branch, a)),
            new("status",
                $"The state of this session: store, base directory, branch {branch}, who holds it (a mount, a sandbox, or nobody), its last " +
                "checkpoint, and how many paths changed since then (the diff tool shows them).",
                [],
                ReadOnly("Session status"),
                _ => Status(storePath, branch)),
        ];
    }

    private static ToolAnnotations ReadOnly(string title) =>
        new() { Title = title, ReadOnlyHint = true, DestructiveHint = false, IdempotentHint = true, OpenWorldHint = false };

    private static string[] Checkpoint(string storePath, string branch, ToolArguments a)
    {
        using var s = StoreAccess.OpenForWriting(storePath);
        var cp = s.Checkpoint(branch, a.String("message"), a.StringMap("meta") ?? new Dictionary<string, string>());
        return [cp.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)];
    }

    private static string[] Rollback(string storePath, string branch, ToolArguments a)
    {
        long id = a.Integer("checkpoint")!.Value;
        using var s = StoreAccess.OpenForWriting(storePath);
        s.Rollback(branch, id);
        return [$"branch {branch} rolled back to checkpoint {id}"];
    }

    private static string[] Branch(string storePath, string branch, ToolArguments a)
    {
        using var s = StoreAccess.OpenForWriting(storePath);
        var b = s.CreateBranch(a.String("name")!, a.Reference("from") ?? branch);
        return [$"created branch {b.Name} from checkpoint {b.FromCheckpoint}"];
    }

    private static string[] Diff(string storePath, string branch, ToolArguments a)
    {
        string fromRef = a.Reference("from") ?? "base", toRef = a.Reference("to") ?? branch;
        int limit = (int)(a.Integer("max_bytes") ?? DefaultDiffBytes);
        bool includeVcs = a.Boolean("include_vcs");
        using var s = StoreAccess.OpenForReading(storePath);
        CommitPendingOf(s, branch);
        var output = new CappedBuffer(limit);
        int vcsLeftOut;
        if (a.String("format") == "name-status")
        {
            var changes = s.Diff(fromRef, toRef, new DiffOptions { IncludeVcs = includeVcs });
            foreach (var line in GitFormat.NameStatus(changes)) output.Write(Encoding.UTF8.GetBytes(line + "\n"));
            vcsLeftOut = changes.VcsLeftOut;
        }
        else
        {
            vcsLeftOut = s.WritePatch(fromRef, toRef, output, new PatchOptions { BinaryPatches = false, IncludeVcs = includeVcs }).VcsLeftOut;
        }
        var notes = new List<string> { output.Text() };
        if (output.Total == 0) notes.Add($"no changes from {fromRef} to {toRef}");
        if (output.Truncated)
            notes.Add($"diff cut at {output.Kept} of {output.Total} bytes (max_bytes {limit}); ask for format name-status to see every path, " +
                      "or a closer from/to, or a larger max_bytes");
        if (vcsLeftOut > 0)
            notes.Add($"left out {vcsLeftOut} change{(vcsLeftOut == 1 ? "" : "s")} inside version-control directories (.git, .hg, .jj); include_vcs keeps them");
        return [.. notes];
    }

    private static string[] Log(string storePath, string branch, ToolArguments a)
    {
        int limit = (int)(a.Integer("limit") ?? 100);
        using var s = StoreAccess.OpenForReading(storePath);
        var all = s.ListCheckpoints(branch);
        var text = new StringBuilder();
        foreach (var c in all.Take(limit)) text.Append(LogCommand.TextLine(CheckpointJson.From(c))).Append('\n');
        var reply = new List<string> { text.ToString() };
        if (all.Count == 0) reply.Add($"branch {branch} has no checkpoints yet");
        if (all.Count > limit) reply.Add($"listed the newest {limit} of {all.Count} checkpoints; a larger limit lists more");
        return [.. reply];
    }

    private static string[] Ops(string storePath, string branch, ToolArguments a)
    {
        int limit = (int)(a.Integer("limit") ?? 200);
        bool summary = a.Boolean("summary");
        using var s = StoreAccess.OpenForReading(storePath);
        CommitPendingOf(s, branch);
        string? ops = a.Choices("op") is { } list ? string.Join(',', list) : null;
        var selection = OperationSelection.Parse(s, storePath, branch, a.Reference("from"), a.Reference("to"), a.String("since"),
            a.String("path"), (int?)a.Integer("pid"), a.String("process"), ops);
        long lastSeq = 0, lastCheckpoint = 0, netOffset = 0;
        var events = selection.Read(s, withMarkers: !summary, ref lastSeq, ref lastCheckpoint, ref netOffset);
        var text = new StringBuilder();
        if (summary)
        {
            foreach (var line in OpsCommand.SummaryLines(OpsSummary.Of(events))) text.Append(line).Append('\n');
            return events.Count == 0 ? [text.ToString(), "no operations match"] : [text.ToString()];
        }
        int skip = Math.Max(0, events.Count - limit);
        for (int i = skip; i < events.Count; i++) text.Append(OpsCommand.TextLine(events[i])).Append('\n');
        var reply = new List<string> { text.ToString() };
        if (events.Count == 0) reply.Add("no events match");
        if (skip > 0) reply.Add($"left out the {skip} oldest of {events.Count} events (limit {limit}); narrow with from/to, since, path or op, or ask for summary");
        return [.. reply];
    }

    private static string[] Status(string storePath, string branch)
    {
        using var s = StoreAccess.OpenForReading(storePath);
        s.GetBranch(branch);
        CommitPendingOf(s, branch);
        string full = Path.GetFullPath(storePath);
        var text = new StringBuilder();
        text.Append($"store: {s.Path}\nbase: {s.BaseDirectoryPath}\nbranch: {branch}\n");
        bool held = false;
        foreach (var m in AgentMount.List())
            if (m.Branch == branch && SamePath(m.Store, full))
            {
                text.Append($"mounted: {m.MountPoint} (process {m.Pid}{(m.ReadOnly ? ", read-only" : "")})\n");
                held = true;
            }
        foreach (var x in SandboxRecord.List())
            if (x.Branch == branch && SamePath(x.Store, full))
            {
                text.Append($"sandboxed: {x.MountPath} (agentfs run, process {x.Pid}): {string.Join(' ', x.Command)}\n");
                held = true;
            }
        if (!held) text.Append(s.LiveWriterOf(branch) is int pid ? $"writer: process {pid}\n" : "writer: none\n");
        var checkpoints = s.ListCheckpoints(branch);
        string since = "base";
        if (checkpoints.Count > 0)
        {
            var last = CheckpointJson.From(checkpoints[0]);
            text.Append($"last checkpoint: {LogCommand.TextLine(last)}\n");
            since = last.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else text.Append("last checkpoint: none\n");
        var changes = s.Diff(since, branch, new DiffOptions());
        text.Append($"changed since {(since == "base" ? "base" : "checkpoint " + since)}: {changes.Count} path{(changes.Count == 1 ? "" : "s")}\n");
        return [text.ToString()];
    }

    private static bool SamePath(string recorded, string full)
    {
        try { return Path.GetFullPath(recorded) == full; }
        catch (Exception e) when (e is ArgumentException or IOException) { return false; }
    }

    /// <summary>
    /// While a mount or sandbox writes the branch, its last second of changes may not be in the store file yet: ask it to
    /// commit, so a read tool shows what the agent just did. Best effort: a holder that cannot be asked (another user's)
    /// leaves the committed state, which is consistent, only up to a second older.
    /// </summary>
    private static void CommitPendingOf(AgentStore s, string branch)
    {
        if (s.LiveWriterOf(branch) == null) return;
        try { s.CommitPending(branch); }
        catch (AgentFsException) { }
    }
}
