using System.Text;
using Spectre.Console;

namespace AgentFs.Cli.Output;

/// <summary>
/// Prints a <see cref="LogGraph"/>: plain text when stdout is not a terminal (<see cref="LogGraph.ToText"/>), and on
/// a terminal the same characters in colour (lanes in git's colours, ids yellow, branches green, +lines green and
/// -lines red), never wrapped by the console: a wrapped line would break the lanes.
/// </summary>
internal static class LogGraphWriter
{
    private static readonly string[] LaneColors = ["red", "green", "yellow", "blue", "magenta", "cyan"];

    public static void Write(CommandIo io, LogGraph graph, string basePath)
    {
        if (!io.IsTerminal)
        {
            io.Out.Write(graph.ToText(basePath));
            return;
        }
        var console = io.Ansi;
        console.Profile.Width = int.MaxValue / 2;
        var line = new StringBuilder();
        foreach (var row in graph.Rows)
        {
            line.Clear();
            foreach (var c in row.Cells)
            {
                if (c.Char == ' ') line.Append(' ');
                else if (c.Char is '*' or '@' or 'o') line.Append("[bold]").Append(c.Char).Append("[/]");
                else line.Append('[').Append(LaneColors[c.Color % LaneColors.Length]).Append(']').Append(c.Char).Append("[/]");
            }
            if (row.Node is { } n) line.Append(' ').Append(NodeMarkup(n, basePath));
            console.MarkupLine(line.ToString());
        }
    }

    private static string NodeMarkup(GraphNode n, string basePath) => n.Kind switch
    {
        GraphNodeKind.Base => "[bold]base[/]: " + Markup.Escape(Formats.Cell(basePath)),
        GraphNodeKind.Head => $"[bold green]{Markup.Escape(n.BranchName)}[/]: head ({SummaryMarkup(n.Changes!)})",
        _ => $"[yellow]{n.Checkpoint!.Id}[/] [dim]{Formats.ShortTime(n.Checkpoint.Created)}[/] [green]{Markup.Escape(n.BranchName)}[/]"
            + (string.IsNullOrEmpty(n.Checkpoint.Message) ? "" : ": " + Markup.Escape(Formats.Cell(n.Checkpoint.Message)))
            + $" ({SummaryMarkup(n.Changes!)})",
    };

    private static string SummaryMarkup(ChangeSummary c)
    {
        if (c.Files == 0) return Markup.Escape(c.Text);
        string files = $"{c.Files} {(c.Files == 1 ? "file" : "files")}, [green]+{c.Insertions}[/] [red]-{c.Deletions}[/]";
        return c.Other > 0 ? files + $", {c.Other} other {(c.Other == 1 ? "change" : "changes")}" : files;
    }
}
