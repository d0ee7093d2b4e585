using System.CommandLine;
using AgentFs.Cli.Output;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs checkpoint STORE [--branch B] [-m MESSAGE] [--meta key=value ...]</c>: seals the branch's current
/// state. Prints the new checkpoint's id as the last line of its output (the only line, in text).
/// </summary>
internal static class CheckpointCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var branch = CommonOptions.Branch();
        var message = new Option<string?>("--message", "-m") { Description = "What this state is", HelpName = "MESSAGE" };
        var meta = new Option<string[]>("--meta")
        {
            Description = "Metadata to keep with the checkpoint (repeatable)",
            HelpName = "key=value",
            AllowMultipleArgumentsPerToken = true,
        };
        var json = CommonOptions.Json();
        var cmd = new Command("checkpoint", "Seal the current state of a branch; prints the checkpoint id")
        {
            store, branch, message, meta, json,
        };
        cmd.SetAction(r =>
        {
            var pairs = ParseMeta(r.GetValue(meta) ?? []);
            using var s = StoreAccess.OpenForWriting(r.GetValue(store)!);
            var cp = s.Checkpoint(r.GetValue(branch)!, r.GetValue(message), pairs);
            if (r.GetValue(json)) io.WriteJson(CheckpointJson.From(cp), CliJson.Document.CheckpointJson);
            else io.Out.WriteLine(cp.Id);
            return Program.ExitOk;
        });
        return cmd;
    }

    internal static Dictionary<string, string> ParseMeta(IEnumerable<string> items)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            int eq = item.IndexOf('=');
            if (eq <= 0)
                throw new AgentFsException(Errno.EINVAL, $"--meta '{item}' is not key=value; write it like --meta task=fix-login");
            d[item[..eq]] = item[(eq + 1)..];
        }
        return d;
    }
}
