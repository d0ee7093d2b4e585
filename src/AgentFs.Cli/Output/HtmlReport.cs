using System.Globalization;
using System.Net;
using System.Text;

namespace AgentFs.Cli.Output;

/// <summary>
/// <c>agentfs report</c>'s page: one self-contained HTML file (inline CSS, no script, no request for anything:
/// its Content-Security-Policy forbids both, so even a diff that escaped its escaping could not run or call out).
/// At the top the history as <c>log --graph</c> draws it, each node a link to its section; then one section per
/// branch head and checkpoint, in the graph's order: when, message and metadata, what changed (the diff --stat
/// summary), the operations behind it grouped as <c>ops --summary</c> groups them (the operations recorded in
/// that node's own layer: for a checkpoint, what its branch did between the state below and the checkpoint), and
/// the diff from the node below, cut at <see cref="DiffCap"/> bytes. Every text from the store (paths, messages,
/// metadata, file contents) is HTML-escaped.
/// </summary>
internal static class HtmlReport
{
    /// <summary>The most of one node's diff the page holds (the rest is named by its size and the command to see it).</summary>
    public const int DiffCap = 256 * 1024;

    public static void Write(TextWriter w, AgentStore store, LogGraph graph, DateTimeOffset now)
    {
        var nodes = graph.Rows.Where(r => r.Node is { Kind: not GraphNodeKind.Base }).Select(r => r.Node!).ToList();
        int checkpoints = nodes.Count(n => n.Kind == GraphNodeKind.Checkpoint);
        int branches = nodes.Count - checkpoints;
        w.Write("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        w.Write("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
        w.Write("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        w.Write($"<title>AgentFs report: {E(Path.GetFileName(store.Path))}</title>\n<style>\n{Css}</style>\n</head>\n<body>\n");
        w.Write("<header>\n<h1>AgentFs session report</h1>\n");
        w.Write($"<p>Store <code>{E(store.Path)}</code> over base <code>{E(store.BaseDirectoryPath)}</code>: ");
        w.Write($"{branches} {(branches == 1 ? "branch" : "branches")}, {checkpoints} {(checkpoints == 1 ? "checkpoint" : "checkpoints")}. ");
        w.Write($"Written {E(Formats.ShortTime(now))} UTC.</p>\n</header>\n");

        w.Write("<section id=\"history\">\n<h2>History</h2>\n<pre class=\"graph\">");
        foreach (var row in graph.Rows)
        {
            foreach (var c in row.Cells)
            {
                if (c.Char == ' ') w.Write(' ');
                else if (c.Char is '*' or '@' or 'o') w.Write($"<b>{c.Char}</b>");
                else w.Write($"<span class=\"l{c.Color % 6}\">{c.Char}</span>");
            }
            if (row.Node is { } n) w.Write(" " + GraphText(n, store.BaseDirectoryPath));
            w.Write('\n');
        }
        w.Write("</pre>\n</section>\n");

        foreach (var n in nodes) WriteNode(w, store, n);
        w.Write("</body>\n</html>\n");
    }

    private static string Anchor(GraphNode n) => n.Kind == GraphNodeKind.Checkpoint
        ? "cp-" + n.Checkpoint!.Id.ToString(CultureInfo.InvariantCulture)
        : "head-" + n.BranchName;

    private static string GraphText(GraphNode n, string basePath) => n.Kind switch
    {
        GraphNodeKind.Base => "<b>base</b>: " + E(basePath),
        GraphNodeKind.Head => $"<a href=\"#{E(Anchor(n))}\" class=\"branch head\">{E(n.BranchName)}</a>: head ({SummaryHtml(n.Changes!)})",
        _ => $"<a href=\"#{Anchor(n)}\" class=\"id\">{n.Checkpoint!.Id}</a> <span class=\"time\">{Formats.ShortTime(n.Checkpoint.Created)}</span> "
            + $"<span class=\"branch\">{E(n.BranchName)}</span>"
            + (string.IsNullOrEmpty(n.Checkpoint.Message) ? "" : ": " + E(Formats.Cell(n.Checkpoint.Message)))
            + $" ({SummaryHtml(n.Changes!)})",
    };

    private static string SummaryHtml(ChangeSummary c)
    {
        if (c.Files == 0) return E(c.Text);
        string files = $"{c.Files} {(c.Files == 1 ? "file" : "files")}, <span class=\"add\">+{c.Insertions}</span> <span class=\"del\">-{c.Deletions}</span>";
        return c.Other > 0 ? files + $", {c.Other} other {(c.Other == 1 ? "change" : "changes")}" : files;
    }

    private static void WriteNode(TextWriter w, AgentStore store, GraphNode n)
    {
        string parentRef = n.Parent!.Checkpoint?.Id.ToString(CultureInfo.InvariantCulture) ?? "base";
        string parentName = n.Parent.Checkpoint is { } p ? $"checkpoint <a href=\"#cp-{p.Id}\">{p.Id}</a>" : "the base";
        w.Write($"<section class=\"node\" id=\"{E(Anchor(n))}\">\n");
        string selfRef;
        long layer;
        long? until;
        if (n.Kind == GraphNodeKind.Checkpoint)
        {
            var cp = n.Checkpoint!;
            selfRef = cp.Id.ToString(CultureInfo.InvariantCulture);
            layer = cp.Layer;
            until = store.OperationTimeOf(selfRef, asEnd: true);
            w.Write($"<h2>Checkpoint {cp.Id} <span class=\"branch\">{E(cp.Branch)}</span>");
            if (!string.IsNullOrEmpty(cp.Message)) w.Write($": <span class=\"message\">{E(cp.Message)}</span>");
            w.Write("</h2>\n");
            w.Write($"<p class=\"when\">Taken {Formats.ShortTime(cp.Created)} UTC over {parentName}: {SummaryHtml(n.Changes!)}.</p>\n");
            if (cp.Meta.Count > 0)
            {
                w.Write("<table class=\"meta\">\n");
                foreach (var (k, v) in cp.Meta.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    w.Write($"<tr><th>{E(k)}</th><td>{E(v)}</td></tr>\n");
                w.Write("</table>\n");
            }
        }
        else
        {
            selfRef = n.BranchName;
            layer = n.Branch!.TopLayer;
            until = null;
            w.Write($"<h2>Branch <span class=\"branch\">{E(n.BranchName)}</span>: head</h2>\n");
            w.Write($"<p class=\"when\">Its state now, over {parentName}: {SummaryHtml(n.Changes!)} not checkpointed.</p>\n");
        }

        long after = parentRef == "base" ? 0 : store.OperationTimeOf(parentRef, asEnd: false);
        var events = store.ReadOperations(new OperationQuery { Branch = n.BranchName, AfterNs = after, UntilNs = until })
            .Where(e => e.Layer == layer).ToList();
        w.Write($"<h3>Operations ({events.Count})</h3>\n");
        if (events.Count == 0) w.Write("<p class=\"none\">No operations recorded.</p>\n");
        else
        {
            var summary = OpsSummary.Of(events);
            WriteGroups(w, "Process", summary.Processes);
            WriteGroups(w, "Top-level directory", summary.Directories);
        }

        var diff = new CappedStream(DiffCap);
        store.WritePatch(parentRef, selfRef, diff, new PatchOptions { BinaryPatches = false });
        w.Write($"<details{(diff.Total <= 16 * 1024 ? " open" : "")}>\n<summary>Diff from {E(parentRef)} ({SummaryHtml(n.Changes!)})</summary>\n");
        if (diff.Total == 0) w.Write("<p class=\"none\">No changes git shows.</p>\n");
        else
        {
            w.Write("<pre class=\"diff\">");
            WriteDiff(w, Encoding.UTF8.GetString(diff.Kept));
            w.Write("</pre>\n");
            if (diff.Truncated)
                w.Write($"<p class=\"cut\">Cut at {DiffCap / 1024} KiB of {diff.Total.ToString("N0", CultureInfo.InvariantCulture)} bytes: "
                    + $"<code>agentfs diff {E(store.Path)} --from {E(parentRef)} --to {E(selfRef)}</code> shows it all.</p>\n");
        }
        w.Write("</details>\n</section>\n");
    }

    private static void WriteGroups(TextWriter w, string title, IReadOnlyList<OpsGroup> groups)
    {
        w.Write($"<table class=\"ops\">\n<tr><th>{title}</th><th>Operations</th><th>Bytes written</th><th>Files touched</th></tr>\n");
        foreach (var g in groups)
            w.Write($"<tr><td>{E(g.Name)}</td><td>{g.Ops}</td><td>{g.BytesWritten}</td><td>{g.FilesTouched}</td></tr>\n");
        w.Write("</table>\n");
    }

    private static void WriteDiff(TextWriter w, string text)
    {
        foreach (var line in text.Split('\n'))
        {
            string cls = line.StartsWith("diff --git ", StringComparison.Ordinal) ? "file"
                : line.StartsWith("@@", StringComparison.Ordinal) ? "hunk"
                : line.StartsWith("+++ ", StringComparison.Ordinal) || line.StartsWith("--- ", StringComparison.Ordinal) ? "hdr"
                : line.StartsWith('+') ? "add"
                : line.StartsWith('-') ? "del"
                : "";
            if (line.Length == 0) { w.Write('\n'); continue; }
            w.Write(cls.Length > 0 ? $"<span class=\"{cls}\">{E(line)}</span>\n" : E(line) + "\n");
        }
    }

    /// <summary>HTML-escaped text; NUL and other control characters but tab and line feed as U+FFFD (the parser
    /// would drop or choke on them).</summary>
    private static string E(string text)
    {
        string s = WebUtility.HtmlEncode(text);
        if (!s.Any(c => char.IsControl(c) && c is not '\t' and not '\n')) return s;
        return string.Create(s.Length, s, static (span, src) =>
        {
            for (int i = 0; i < src.Length; i++) span[i] = char.IsControl(src[i]) && src[i] is not '\t' and not '\n' ? '\uFFFD' : src[i];
        });
    }

    private const string Css = """
        :root { color-scheme: light dark; --fg: #1f2328; --bg: #ffffff; --muted: #59636e; --line: #d1d9e0; --add: #1a7f37; --del: #cf222e; --hunk: #8250df; --code: #f6f8fa; }
        @media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #3d444d; --add: #3fb950; --del: #f85149; --hunk: #d2a8ff; --code: #151b23; } }
        body { font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; max-width: 1100px; padding: 1rem 2rem 4rem; }
        h1 { font-size: 1.6rem; margin-bottom: .2rem; }
        h2 { font-size: 1.15rem; margin: 0 0 .3rem; }
        h3 { font-size: .95rem; margin: .8rem 0 .3rem; color: var(--muted); }
        code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
        pre { background: var(--code); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; overflow-x: auto; }
        pre.graph b { font-weight: 700; }
        .l0 { color: #d1242f; } .l1 { color: #1a7f37; } .l2 { color: #9a6700; } .l3 { color: #0969da; } .l4 { color: #8250df; } .l5 { color: #1b7c83; }
        a { color: inherit; }
        a.id, .id { color: #9a6700; font-weight: 600; }
        .time, .when, .none, .cut { color: var(--muted); }
        .branch { color: var(--add); font-weight: 600; }
        .add { color: var(--add); } .del { color: var(--del); } .hunk { color: var(--hunk); } .file, .hdr { font-weight: 700; }
        section.node { border-top: 1px solid var(--line); padding: 1rem 0; }
        table { border-collapse: collapse; margin: .3rem 0 .6rem; font-size: .9rem; }
        th, td { border: 1px solid var(--line); padding: .15rem .6rem; text-align: left; }
        table.ops td:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
        details > summary { cursor: pointer; color: var(--muted); }

        """;
}
