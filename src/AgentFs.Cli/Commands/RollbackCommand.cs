using System.CommandLine;
using System.Globalization;
using AgentFs.Cli.Output;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs rollback STORE CHECKPOINT [--branch B]</c>: makes the branch show a checkpoint of its history
/// again. Changes made since are dropped from the branch (checkpoints keep them).
/// </summary>
internal static class RollbackCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var checkpoint = new Argument<string>("CHECKPOINT") { Description = "Id of a checkpoint in the branch's history ('agentfs log' lists them)" };
        var branch = CommonOptions.Branch();
        var json = CommonOptions.Json();
        var cmd = new Command("rollback", "Return a branch to one of its checkpoints") { store, checkpoint, branch, json };
        cmd.SetAction(r =>
        {
            string storePath = r.GetValue(store)!, b = r.GetValue(branch)!, text = r.GetValue(checkpoint)!;
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long id))
                throw new AgentFsException(Errno.EINVAL, $"'{text}' is not a checkpoint id; 'agentfs log {storePath} --branch {b}' lists them");
            using var s = StoreAccess.OpenForWriting(storePath);
            s.Rollback(b, id);
            if (r.GetValue(json)) io.WriteJson(new RollbackJson(b, id), CliJson.Document.RollbackJson);
            else io.Out.WriteLine($"branch {b} rolled back to checkpoint {id}");
            return Program.ExitOk;
        });
        return cmd;
    }
}
