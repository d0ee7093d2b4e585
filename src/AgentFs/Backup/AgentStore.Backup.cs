using System.Diagnostics;
using AgentFs.Store;

namespace AgentFs;

public sealed partial class AgentStore
{
    /// <summary>
    /// Writes a consistent copy of the whole store (every branch, checkpoint and layer, the operation log) to
    /// <paramref name="outputPath"/>, while branches stay mounted and written: the copy is the store as of its
    /// last commit before the backup began (what this process has written through its own open branches is
    /// committed first). Writers are not blocked. The copy is written to OUTPUT.tmp, checked (it opens as a
    /// store and passes PRAGMA quick_check) and then renamed, so a failed or cancelled backup leaves nothing at
    /// OUTPUT. Lease rows are cleared in the copy (no process holds it).
    /// The base directory is not copied: the backup names it by path, like the store does.
    /// </summary>
    /// <param name="overwrite">Replace an existing OUTPUT, which must be an AgentFs store that no process has open.</param>
    public BackupResult Backup(string outputPath, bool overwrite = false, IProgress<BackupProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        string target = FullHostPath(outputPath, "backup path");
        if (StoreFiles.SameFile(target, Path))
            throw new AgentFsException(Errno.EINVAL, $"backup {target} is the store itself; choose another path");
        StoreFiles.CheckTarget(target, overwrite, "backup", "pass --force to replace it, or choose another path");
        RefuseInsideBase(target, BaseDirectoryPath, "backup");

        AgentFileSystem[] open;
        lock (_open) open = _open.Values.ToArray();
        foreach (var fs in open) fs.Flush(durable: false);

        var clock = Stopwatch.StartNew();
        var (pages, pageSize, copy) = CopyIntoPlace(Path, target, overwrite, "backup",
            $"the backup copy {StoreFiles.TempPathFor(target)} of store {Path}", progress, cancellationToken);
        return new BackupResult(Path, target, BaseDirectoryPath, StoreId, pages, pageSize, clock.Elapsed, copy.LeasesCleared);
    }

    /// <summary>
    /// Restores a backup (any store file) to <paramref name="storePath"/>: checks that the backup is a store,
    /// copies it to STORE.tmp (consistently, even if the backup is itself in use), clears its leases, checks the
    /// copy (PRAGMA quick_check and the rows a store needs) and renames it into place. An existing STORE is
    /// replaced only with <paramref name="force"/>, only if it is an AgentFs store, and only while no process
    /// has it open (no live lease, and SQLite grants exclusive access); its stale -wal and -shm are removed
    /// first. On any failure STORE is left as it was.
    /// </summary>
    public static RestoreResult Restore(string backupPath, string storePath, bool force = false,
        IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        string backup = FullHostPath(backupPath, "backup path");
        string target = FullHostPath(storePath, "store path");
        if (Directory.Exists(backup))
            throw new AgentFsException(Errno.EISDIR, $"backup {backup} is a directory; pass the backup file made by 'agentfs backup'");
        if (!File.Exists(backup))
            throw new AgentFsException(Errno.ENOENT, $"backup {backup} does not exist; pass the file made by 'agentfs backup'");
        try { StoreDatabase.CheckIsStore(backup); }
        catch (AgentFsException e)
        {
            throw new AgentFsException(e.Errno, "backup: " + e.Message, e);
        }
        string? backupBase;
        // What the backup holds is checked before anything is written: its schema (no trigger of its own may
        // run when the copy's leases are cleared) and its layer graph.
        try
        {
            using var check = StoreDatabase.OpenForReading(backup, out _);
            StoreVerifier.Verify(check, backup, "backup");
            backupBase = Meta(check, "base") as string;
        }
        catch (Microsoft.Data.Sqlite.SqliteException e) { throw StoreDatabase.Translate(e, backup); }
        if (StoreFiles.SameFile(backup, target))
            throw new AgentFsException(Errno.EINVAL, $"backup {backup} and store {target} are the same file; restore to another path");
        StoreFiles.CheckTarget(target, force, "store",
            "pass --force to replace it with the backup (its current content is lost), or restore to another path");
        if (backupBase != null) RefuseInsideBase(target, backupBase, "store");
        bool replacing = File.Exists(target);

        var clock = Stopwatch.StartNew();
        var (pages, pageSize, copy) = CopyIntoPlace(backup, target, force, "store",
            $"the copy {StoreFiles.TempPathFor(target)} of backup {backup}", progress, cancellationToken);
        return new RestoreResult(backup, target, copy.BaseDirectory, Directory.Exists(copy.BaseDirectory), copy.StoreId,
            replacing, pages, pageSize, clock.Elapsed, copy.LeasesCleared);
    }

    /// <summary>Copies the store at source to TARGET.tmp, checks and syncs the copy and renames it to target;
    /// on any failure the temporary file goes away. describeCopy names TARGET.tmp in errors.</summary>
    private static (long Pages, int PageSize, CopyIdentity Copy) CopyIntoPlace(string source, string target, bool overwrite, string what,
        string describeCopy, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        string tmp = StoreFiles.CreateTemp(target, removeLeftover: overwrite, what);
        try
        {
            var (pages, pageSize) = StoreCopy.Copy(source, tmp, progress, cancellationToken);
            var copy = StoreCopy.PrepareCopy(tmp, describeCopy);
            StoreFiles.SyncFile(tmp);
            cancellationToken.ThrowIfCancellationRequested();
            StoreFiles.MoveIntoPlace(tmp, target, overwrite, what);
            return (pages, pageSize, copy);
        }
        catch
        {
            StoreFiles.DeleteWithSidecars(tmp);
            throw;
        }
    }

    /// <summary>The base is never written: a backup or restored store aimed into it (by any spelling: a symlink,
    /// a bind mount) is refused, as init refuses a store there.</summary>
    private static void RefuseInsideBase(string target, string basePath, string what)
    {
        if (!Directory.Exists(basePath)) return;
        if (AgentFs.Native.PathContainment.IsSameOrBelow(target, basePath, out string realTarget, out string realBase))
            throw new AgentFsException(Errno.EINVAL, $"{what} {target} would be inside the base directory {basePath}" +
                (realTarget == target && realBase == basePath ? "" : $" (really {realTarget} in {realBase})") +
                ", which is never written; write it outside the base");
    }

    private static string FullHostPath(string path, string what)
    {
        if (string.IsNullOrEmpty(path)) throw new AgentFsException(Errno.EINVAL, $"the {what} is empty; pass a file path");
        if (path.Contains('\0')) throw new AgentFsException(Errno.EINVAL, $"the {what} {path.Replace("\0", "\\0")} contains a NUL byte");
        return System.IO.Path.GetFullPath(path);
    }
}
