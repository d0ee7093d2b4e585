using Spectre.Console;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs trace STORE --per-checkpoint [--from REF] [--to REF] [--json]</c>: one Agent Trace record per
/// checkpoint of the range (<see cref="AgentStore.TracePerCheckpoint(DiffOptions, string?, string?, string, CancellationToken)"/>).
/// --json prints JSON lines, one record per line, oldest first; text is one line per checkpoint, file and
/// conversation: <c>CHECKPOINT\tPATH\tRANGES\tCONVERSATION_URL\tMODEL</c> (CHECKPOINT is the branch name for the
/// head's changes after its last checkpoint).
/// </summary>
internal static class TracePerCheckpoint
{
    public static int Print(CommandIo io, string storePath, string branch, string? from, string? to, bool json, bool includeVcs)
    {
        using var s = StoreAccess.OpenForReading(storePath);
        var (records, vcsLeftOut) = Interruptible.Run("trace", "nothing was printed", token =>
            s.TracePerCheckpoint(new DiffOptions { IncludeVcs = includeVcs }, from, to, branch, token));
        if (json)
        {
            foreach (var record in records)
            {
                io.Out.Write(record.ToJson(indented: false));
                io.Out.Write('\n');
            }
        }
        else
        {
            var table = io.IsTerminal ? new Table().AddColumns("Checkpoint", "Path", "Lines", "Conversation", "Model") : null;
            foreach (var record in records)
            {
                string at = Label(record, branch);
                foreach (var f in record.Files)
                    foreach (var c in f.Conversations)
                    {
                        string ranges = string.Join(',', c.Ranges.Select(r => $"{r.StartLine}-{r.EndLine}"));
                        if (table != null)
                            table.AddRow(Markup.Escape(at), Markup.Escape(f.Path), ranges, Markup.Escape(c.Url ?? ""), Markup.Escape(c.Contributor?.ModelId ?? ""));
                        else
                            io.Out.WriteLine($"{at}\t{Output.Formats.Cell(f.Path)}\t{ranges}\t{Output.Formats.Cell(c.Url)}\t{Output.Formats.Cell(c.Contributor?.ModelId)}");
                    }
            }
            if (table != null) io.Ansi.Write(table);
        }
        CommonOptions.ReportVcsLeftOut(io, vcsLeftOut);
        return Program.ExitOk;
    }

    /// <summary>The checkpoint id a record ends at, or the branch name for a head's changes.</summary>
    private static string Label(AgentTraceRecord record, string branch) =>
        record.Metadata?["dev.agentfs"]?["to"]?["checkpoint"]?.GetValue<long>().ToString(System.Globalization.CultureInfo.InvariantCulture)
        ?? record.Metadata?["dev.agentfs"]?["to"]?["branch"]?.GetValue<string>() ?? branch;
}
