using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using AgentFs.Cli.Output;
using Spectre.Console;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs ops STORE [--branch B] [--from REF] [--to REF] [--since TIME] [--path GLOB] [--pid N | --process NAME]
/// [--op OP,...] [--json] [--follow] [--summary]</c>: the operation log of a branch, oldest first (newest last),
/// with the branch's checkpoints as markers and the sandbox's network events (STORE.log) in the same stream.
/// Text: one line per event, <c>TIME\tPROCESS[PID]\tOP\tPATH\tBYTES</c> (a rename's PATH is <c>OLD -> NEW</c>; a
/// checkpoint's is <c>checkpoint ID: MESSAGE</c>; a network event's is the proxy's line); a table on a terminal;
/// JSON lines with --json. --summary groups the selected operations by process and by top-level directory.
/// </summary>
internal static class OpsCommand
{

    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var branch = CommonOptions.Branch();
        var from = new Option<string?>("--from") { Description = "Only what happened after REF: base, a checkpoint id, or a branch (from its creation)", HelpName = "REF" };
        var to = new Option<string?>("--to") { Description = "Only what happened up to REF: a checkpoint id (when it was taken) or a branch (now)", HelpName = "REF" };
        var since = new Option<string?>("--since") { Description = "Only what happened since TIME: 2025-11-24T11:13:00Z, 2025-11-24, or ago: 30s, 10m, 2h, 3d", HelpName = "TIME" };
        var path = new Option<string?>("--path") { Description = "Only paths matching GLOB ('*' also matches '/'; without wildcards: the path and everything under it)", HelpName = "GLOB" };
        var pid = new Option<int?>("--pid") { Description = "Only operations of process N", HelpName = "N" };
        var process = new Option<string?>("--process") { Description = "Only operations of processes named NAME (as in /proc/PID/comm)", HelpName = "NAME" };
        var op = new Option<string?>("--op") { Description = "Only these operations: " + string.Join(',', OperationSelection.AllOps), HelpName = "OP,..." };
        var json = new Option<bool>("--json") { Description = "Print JSON lines, one event each (shapes: src/AgentFs.Cli/README.md)" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events while the branch is mounted or sandboxed" };
        var summary = new Option<bool>("--summary") { Description = "Group by process and by top-level directory: operations, bytes written, files touched" };
        var cmd = new Command("ops", "Show the operation log: what changed, when, by which process")
        {
            store, branch, from, to, since, path, pid, process, op, json, follow, summary,
        };
        cmd.SetAction(r =>
        {
            if (r.GetValue(pid) != null && r.GetValue(process) != null)
                return Usage(io, "--pid and --process exclude each other; pass one");
            if (r.GetValue(follow) && r.GetValue(summary))
                return Usage(io, "--follow and --summary exclude each other; pass one");
            string storePath = r.GetValue(store)!;
            using var s = StoreAccess.OpenForReading(storePath);
            string b = r.GetValue(branch)!;
            var selection = OperationSelection.Parse(s, storePath, b, r.GetValue(from), r.GetValue(to), r.GetValue(since),
                r.GetValue(path), r.GetValue(pid), r.GetValue(process), r.GetValue(op));
            long lastSeq = 0, lastCheckpoint = 0, netOffset = 0;
            var events = selection.Read(s, withMarkers: !r.GetValue(summary), ref lastSeq, ref lastCheckpoint, ref netOffset);

            if (r.GetValue(summary))
            {
                WriteSummary(io, OpsSummary.Of(events), r.GetValue(json));
                return Program.ExitOk;
            }
            bool json_ = r.GetValue(json);
            bool table = io.IsTerminal && !json_ && !r.GetValue(follow);
            if (table) WriteTable(io, events);
            else foreach (var e in events) WriteEvent(io, e, json_);
            if (!r.GetValue(follow)) return Program.ExitOk;

            io.Out.Flush();
            if (s.LiveWriterOf(b) == null)
            {
                io.Error.WriteLine($"agentfs: branch {b} of store {storePath} is not mounted or sandboxed: nothing more to follow");
                return Program.ExitOk;
            }
            using var stop = new CancellationTokenSource();
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            bool last = false;
            while (true)
            {
                bool live = s.LiveWriterOf(b) != null;
                var more = selection.Read(s, withMarkers: true, ref lastSeq, ref lastCheckpoint, ref netOffset);
                foreach (var e in more) WriteEvent(io, e, json_);
                io.Out.Flush();
                if (last || stop.IsCancellationRequested) return Program.ExitOk;
                if (!live) last = true; // one more read: what the writer committed as it ended
                else stop.Token.WaitHandle.WaitOne(250);
            }
        });
        return cmd;
    }

    private static int Usage(CommandIo io, string message)
    {
        io.Error.WriteLine($"agentfs: {message}");
        return Program.ExitUsage;
    }

    private static string Who(OperationRecord e) => e.Op == "checkpoint" ? "" : $"{e.ProcessName}[{e.Pid}]";

    private static string What(OperationRecord e) => e.Op switch
    {
        "checkpoint" => $"checkpoint {e.CheckpointId}" + (e.Detail is { Length: > 0 } m ? ": " + m : ""),
        "net" => e.Detail ?? "",
        _ => (e.Path ?? $"(inode {e.Ino})") + (e.To != null ? " -> " + e.To : ""),
    };

    private static string BytesText(OperationRecord e) => e.Op is "checkpoint" or "net" ? "" : e.Bytes.ToString(CultureInfo.InvariantCulture);

    /// <summary>One event as the text output prints it, without the newline (also the MCP server's <c>ops</c> tool).</summary>
    internal static string TextLine(OperationRecord e) =>
        $"{Formats.Time(e.TimeNs)}\t{Formats.Cell(Who(e))}\t{e.Op}\t{Formats.Cell(What(e))}\t{BytesText(e)}";

    private static void WriteEvent(CommandIo io, OperationRecord e, bool json)
    {
        if (json) io.Out.Write(JsonSerializer.Serialize(OperationJson.From(e), CliJson.Line.OperationJson));
        else io.Out.Write(TextLine(e));
        io.Out.Write('\n');
    }

    private static void WriteTable(CommandIo io, List<OperationRecord> events)
    {
        var table = new Table().AddColumns("Time (UTC)", "Process", "Op", "Path", "Bytes");
        table.Columns[4].RightAligned();
        foreach (var e in events)
        {
            string what = Markup.Escape(What(e));
            if (e.Op == "checkpoint") what = $"[bold]{what}[/]";
            table.AddRow(Formats.ShortTime(e.Time) + e.Time.UtcDateTime.ToString(".fff", CultureInfo.InvariantCulture),
                Markup.Escape(Who(e)), e.Op, what, BytesText(e));
        }
        io.Ansi.Write(table);
    }

    private static void WriteSummary(CommandIo io, OpsSummary summary, bool json)
    {
        if (json)
        {
            io.WriteJson(summary, CliJson.Document.OpsSummary);
            return;
        }
        if (io.IsTerminal)
        {
            foreach (var (title, rows) in new[] { ("Process", summary.Processes), ("Directory", summary.Directories) })
            {
                var table = new Table().AddColumns(title, "Ops", "Bytes written", "Files touched");
                for (int i = 1; i < 4; i++) table.Columns[i].RightAligned();
                foreach (var g in rows) table.AddRow(Markup.Escape(g.Name), g.Ops.ToString(), g.BytesWritten.ToString(), g.FilesTouched.ToString());
                io.Ansi.Write(table);
            }
            return;
        }
        foreach (var line in SummaryLines(summary)) io.Out.WriteLine(line);
    }

    /// <summary>--summary as text: process lines, then directory lines (also the MCP server's <c>ops</c> tool).</summary>
    internal static IEnumerable<string> SummaryLines(OpsSummary summary) =>
        summary.Processes.Select(g => $"process\t{Formats.Cell(g.Name)}\t{g.Ops}\t{g.BytesWritten}\t{g.FilesTouched}")
            .Concat(summary.Directories.Select(g => $"directory\t{Formats.Cell(g.Name)}\t{g.Ops}\t{g.BytesWritten}\t{g.FilesTouched}"));
}
