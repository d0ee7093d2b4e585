using System.CommandLine;
using System.Text;
using AgentFs.Cli.Output;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs report STORE -o FILE.html [--branch B]</c>: one self-contained HTML page of the session (see
/// <see cref="HtmlReport"/>): the history as <c>log --graph</c> draws it, then per branch head and checkpoint its
/// message and metadata, the operations behind it (as <c>ops --summary</c> groups them) and its diff. With --branch,
/// only that branch's history. FILE appears only when complete (written beside it, then renamed), mode 0600; <c>-</c>
/// writes the page to stdout. Prints <c>wrote FILE: N branches, M checkpoints, SIZE bytes</c>. Opens the store read-only.
/// </summary>
internal static class ReportCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var branch = CommonOptions.Branch();
        var output = new Option<string>("--output", "-o") { Description = "Write the page to FILE (- for stdout)", HelpName = "FILE", Required = true };
        var cmd = new Command("report", "Write one self-contained HTML page of the session: history graph, operations and diff per checkpoint")
        {
            store, branch, output,
        };
        cmd.SetAction(r =>
        {
            string file = r.GetValue(output)!;
            using var s = StoreAccess.OpenForReading(r.GetValue(store)!);
            string b = r.GetValue(branch)!;
            s.GetBranch(b);
            bool onlyBranch = r.GetResult(branch) is { Implicit: false };
            var graph = LogGraph.Build(s, onlyBranch ? b : null);
            if (file == "-")
            {
                HtmlReport.Write(io.Out, s, graph, DateTimeOffset.UtcNow);
                return Program.ExitOk;
            }
            string full = Path.GetFullPath(StoreAccess.CheckPath(file, "output file"));
            long bytes = PatchCommand.WriteFile(full, stream =>
            {
                using (var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" })
                    HtmlReport.Write(w, s, graph, DateTimeOffset.UtcNow);
                return stream.Length;
            });
            int checkpoints = graph.Rows.Count(x => x.Node?.Kind == GraphNodeKind.Checkpoint);
            int branches = graph.Rows.Count(x => x.Node?.Kind == GraphNodeKind.Head);
            io.Out.WriteLine($"wrote {full}: {branches} {(branches == 1 ? "branch" : "branches")}, {checkpoints} {(checkpoints == 1 ? "checkpoint" : "checkpoints")}, {bytes} bytes");
            return Program.ExitOk;
        });
        return cmd;
    }
}
