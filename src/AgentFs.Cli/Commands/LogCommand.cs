using System.CommandLine;
using AgentFs.Cli.Output;
using Spectre.Console;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs log STORE [--branch B]</c>: the checkpoints in a branch's history (its own and those of the
/// branches it started from), newest first. Text: one line per checkpoint,
/// <c>ID\tCREATED\tBRANCH\tMESSAGE\tkey=value,...</c>. With --graph, the whole store as a tree (see <see cref="LogGraph"/>;
/// only the given branch's history when --branch is passed).
/// </summary>
internal static class LogCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var branch = CommonOptions.Branch();
        var json = CommonOptions.Json();
        var graph = new Option<bool>("--graph") { Description = "Draw every branch and checkpoint as a tree with what each changed (only --branch's history when given)" };
        var cmd = new Command("log", "List the checkpoints of a branch, newest first") { store, branch, json, graph };
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(graph) && r.GetValue(json)) r.AddError("--graph and --json exclude each other");
        });
        cmd.SetAction(r =>
        {
            using var s = StoreAccess.OpenForReading(r.GetValue(store)!);
            string b = r.GetValue(branch)!;
            if (r.GetValue(graph))
            {
                s.GetBranch(b);
                bool onlyBranch = r.GetResult(branch) is { Implicit: false };
                LogGraphWriter.Write(io, LogGraph.Build(s, onlyBranch ? b : null), s.BaseDirectoryPath);
                return Program.ExitOk;
            }
            var list = s.ListCheckpoints(b).Select(CheckpointJson.From).ToList();
            if (r.GetValue(json))
                io.WriteJson(new LogJson(b, list), CliJson.Document.LogJson);
            else if (io.IsTerminal)
            {
                var table = new Table().AddColumns("Id", "Created (UTC)", "Branch", "Message", "Meta");
                table.Columns[0].RightAligned();
                foreach (var c in list)
                    table.AddRow(c.Id.ToString(), Formats.ShortTime(DateTimeOffset.Parse(c.Created)), Markup.Escape(c.Branch),
                        Markup.Escape(c.Message ?? ""), Markup.Escape(MetaText(c.Meta)));
                io.Ansi.Write(table);
            }
            else
            {
                foreach (var c in list) io.Out.WriteLine(TextLine(c));
            }
            return Program.ExitOk;
        });
        return cmd;
    }

    /// <summary>One checkpoint as the text output lists it (also the MCP server's <c>log</c> tool).</summary>
    internal static string TextLine(CheckpointJson c) =>
        $"{c.Id}\t{c.Created}\t{c.Branch}\t{Formats.Cell(c.Message)}\t{Formats.Cell(MetaText(c.Meta))}";

    private static string MetaText(IReadOnlyDictionary<string, string> meta) =>
        string.Join(',', meta.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
}
