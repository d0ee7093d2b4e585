using System.CommandLine;
using AgentFs.Cli.Output;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs branch STORE NEW --from BRANCH|CHECKPOINT</c>: a new branch starting at a checkpoint, or at
/// another branch's current state (which is checkpointed first, so both can go on independently).
/// </summary>
internal static class BranchCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var name = new Argument<string>("NEW") { Description = "Name of the new branch (letters, digits, '.', '_', '-', '/')" };
        var from = new Option<string>("--from")
        {
            Description = "A branch name (its current state) or a checkpoint id",
            HelpName = "BRANCH|CHECKPOINT",
            Required = true,
        };
        var json = CommonOptions.Json();
        var cmd = new Command("branch", "Create a branch from a branch or a checkpoint") { store, name, from, json };
        cmd.SetAction(r =>
        {
            using var s = StoreAccess.OpenForWriting(r.GetValue(store)!);
            var b = s.CreateBranch(r.GetValue(name)!, r.GetValue(from)!);
            if (r.GetValue(json)) io.WriteJson(BranchJson.From(b, null), CliJson.Document.BranchJson);
            else io.Out.WriteLine($"created branch {b.Name} from checkpoint {b.FromCheckpoint}");
            return Program.ExitOk;
        });
        return cmd;
    }
}
