using System.CommandLine;
using AgentFs.Cli.Output;
using Spectre.Console;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs branches STORE</c>: the branches, sorted by name. Text: one line per branch,
/// <c>NAME\tFROM_CHECKPOINT\tCREATED\tWRITER_PID</c> ('-' where there is none).
/// </summary>
internal static class BranchesCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var json = CommonOptions.Json();
        var cmd = new Command("branches", "List the branches of a store") { store, json };
        cmd.SetAction(r =>
        {
            using var s = StoreAccess.OpenForReading(r.GetValue(store)!);
            var list = s.ListBranches().Select(b => BranchJson.From(b, s.LeaseHolder(b.Name))).ToList();
            if (r.GetValue(json))
                io.WriteJson(new BranchesJson(list), CliJson.Document.BranchesJson);
            else if (io.IsTerminal)
            {
                var table = new Table().AddColumns("Branch", "From checkpoint", "Created (UTC)", "Writer pid");
                foreach (var b in list)
                    table.AddRow(Markup.Escape(b.Name), b.FromCheckpoint?.ToString() ?? "-", Formats.ShortTime(DateTimeOffset.Parse(b.Created)), b.WriterPid?.ToString() ?? "-");
                io.Ansi.Write(table);
            }
            else
            {
                foreach (var b in list)
                    io.Out.WriteLine($"{b.Name}\t{b.FromCheckpoint?.ToString() ?? "-"}\t{b.Created}\t{b.WriterPid?.ToString() ?? "-"}");
            }
            return Program.ExitOk;
        });
        return cmd;
    }
}
