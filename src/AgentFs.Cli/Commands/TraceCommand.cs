using System.CommandLine;
using Spectre.Console;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs trace STORE [--branch B] [--from REF] [--to REF] [--json]</c>: the Agent Trace record (agent-trace.dev,
/// version 0.1.0) of the change from REF to REF (default: base to the branch head): which line ranges of which
/// files it added, and which conversation (checkpoint metadata: conversation_url, model, contributor) added
/// them. --json prints the record itself; text is one line per file and conversation,
/// <c>PATH\tRANGES\tCONVERSATION_URL\tMODEL</c> with RANGES like <c>3-5,12-12</c>.
/// </summary>
internal static class TraceCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var branch = CommonOptions.Branch();
        var (from, to) = CommonOptions.RefOptions();
        var json = CommonOptions.Json();
        var includeVcs = CommonOptions.IncludeVcs();
        var perCheckpoint = new Option<bool>("--per-checkpoint")
        {
            Description = "One record per checkpoint in the range (each turn's lines with its own conversation and model); --json prints JSON lines",
        };
        var cmd = new Command("trace", "Print the Agent Trace record (agent-trace.dev) of a branch's changes")
        {
            store, branch, from, to, json, includeVcs, perCheckpoint,
        };
        cmd.SetAction(r =>
        {
            if (r.GetValue(perCheckpoint))
                return TracePerCheckpoint.Print(io, r.GetValue(store)!, r.GetValue(branch)!, r.GetValue(from), r.GetValue(to), r.GetValue(json), r.GetValue(includeVcs));
            using var s = StoreAccess.OpenForReading(r.GetValue(store)!);
            var (record, vcsLeftOut) = Interruptible.Run("trace", "nothing was printed", token =>
                s.Trace(new DiffOptions { IncludeVcs = r.GetValue(includeVcs) }, r.GetValue(from), r.GetValue(to), r.GetValue(branch)!, token));
            if (r.GetValue(json))
            {
                io.Out.Write(record.ToJson(indented: true));
                io.Out.Write('\n');
            }
            else if (io.IsTerminal)
            {
                var table = new Table().AddColumns("Path", "Lines", "Conversation", "Model");
                foreach (var f in record.Files)
                    foreach (var c in f.Conversations)
                        table.AddRow(Markup.Escape(f.Path), Ranges(c), Markup.Escape(c.Url ?? ""), Markup.Escape(c.Contributor?.ModelId ?? ""));
                io.Ansi.Write(table);
            }
            else
            {
                foreach (var f in record.Files)
                    foreach (var c in f.Conversations)
                        io.Out.WriteLine($"{Output.Formats.Cell(f.Path)}\t{Ranges(c)}\t{Output.Formats.Cell(c.Url)}\t{Output.Formats.Cell(c.Contributor?.ModelId)}");
            }
            CommonOptions.ReportVcsLeftOut(io, vcsLeftOut);
            return Program.ExitOk;
        });
        return cmd;
    }

    private static string Ranges(AgentTraceConversation c) => string.Join(',', c.Ranges.Select(r => $"{r.StartLine}-{r.EndLine}"));
}
