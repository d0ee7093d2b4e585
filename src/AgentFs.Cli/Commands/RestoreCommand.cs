using System.CommandLine;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs restore BACKUP STORE [--force]</c>: puts a backup in place as STORE. BACKUP must be a valid store;
/// an existing STORE is replaced only with --force and only while no process has it open (a mount holds a
/// lease, which is refused). The copy is checked before it takes STORE's name, so a failure leaves STORE as it
/// was. Leases the backup carries (it was taken while mounted) are cleared.
/// </summary>
internal static class RestoreCommand
{
    public static Command Create(CommandIo io)
    {
        var backup = new Argument<string>("BACKUP") { Description = "The backup file (made by 'agentfs backup', or any store file)" };
        var store = new Argument<string>("STORE") { Description = "Path of the store to restore to (must not exist, unless --force)" };
        var force = new Option<bool>("--force", "-f") { Description = "Replace an existing STORE (its current content is lost); refused while it is open" };
        var json = CommonOptions.Json();
        var cmd = new Command("restore", "Restore a store from a backup")
        {
            backup, store, force, json,
        };
        cmd.SetAction(r =>
        {
            string backupPath = StoreAccess.CheckPath(r.GetValue(backup)!, "backup path");
            string storePath = StoreAccess.CheckPath(r.GetValue(store)!, "store path");
            var result = Interruptible.Run("restore", $"{Path.GetFullPath(storePath)} was left as it was", token =>
                TerminalProgress.Run(io, "restoring", progress =>
                    AgentStore.Restore(backupPath, storePath, r.GetValue(force), progress?.ForCopy(), token)));
            if (r.GetValue(json))
                io.WriteJson(new RestoreJson(result.BackupPath, result.StorePath, result.BaseDirectory, result.BaseDirectoryExists,
                    result.StoreId, result.Replaced, result.Bytes, Math.Round(result.Elapsed.TotalSeconds, 3), result.LeasesCleared), CliJson.Document.RestoreJson);
            else
                io.Out.WriteLine($"restored {result.StorePath} from backup {result.BackupPath}{(result.Replaced ? " (replacing the store that was there)" : "")}: " +
                                 $"{Size.Text(result.Bytes)} in {Size.Seconds(result.Elapsed)}");
            if (!result.BaseDirectoryExists)
                io.Error.WriteLine($"agentfs: warning: the base directory {result.BaseDirectory} of the restored store does not exist here; " +
                                   "put it (or a copy) back at that path before using the store");
            return Program.ExitOk;
        });
        return cmd;
    }

    /// <summary><c>restore --json</c>.</summary>
    internal sealed record RestoreJson(string Backup, string Store, string Base, bool BaseExists, string StoreId, bool Replaced,
        long Bytes, double Seconds, int LeasesCleared);
}
