using System.Text;
using Microsoft.Data.Sqlite;
using AgentFs.Native;
using AgentFs.Store;

namespace AgentFs;

/// <summary>
/// Puts a finished copy of a store where a store file belongs without ever leaving a partial or mixed
/// store behind.
///
/// Invariants:
/// - A copy is built in TARGET.tmp, next to TARGET (so the final rename(2) is atomic), and only a copy that
///   passed its checks is renamed to TARGET. On any failure the temporary file and its -wal/-shm go away.
/// - An existing TARGET is replaced only when it is an AgentFs store that no process has open: no live
///   lease, and SQLite grants us exclusive access. We take that access by switching the old store out of
///   WAL mode (SQLite allows this only to the sole connection; it also folds the WAL into the file) and then
///   holding an EXCLUSIVE lock on it across the rename, so no process can open the old store in between.
/// - TARGET-wal and TARGET-shm are deleted before the new file takes the name: SQLite would otherwise replay
///   a stale WAL into the new database (a WAL carries no identity of its database).
/// </summary>
internal static class StoreFiles
{
    private static readonly string[] Sidecars = ["-wal", "-shm", "-journal"];

    public static string TempPathFor(string target) => target + ".tmp";

    /// <summary>The bytes an unprivileged writer may still use on the file system holding path (statvfs f_bavail *
    /// f_frsize), or -1 when it cannot be asked.</summary>
    public static unsafe long FreeBytes(string path)
    {
        byte* buf = stackalloc byte[112];
        byte[] z = Encoding.UTF8.GetBytes(path + "\0");
        int rc;
        fixed (byte* p = z) rc = LibC.statvfs(p, buf);
        if (rc != 0) return -1;
        ulong* u = (ulong*)buf;
        ulong free = u[4] * u[1]; // f_bavail * f_frsize
        return free > long.MaxValue ? long.MaxValue : (long)free;
    }

    /// <summary>Refuses a target that may not be written: a directory, a missing directory, an existing file
    /// without overwrite, an existing file that is not a store, or a store in use.</summary>
    public static void CheckTarget(string target, bool overwrite, string what, string forceHint)
    {
        CheckFilePath(target, what);
        if (!File.Exists(target) && !IsDanglingSymlink(target)) return;
        if (!overwrite)
            throw new AgentFsException(Errno.EEXIST, $"{what} {target} already exists; {forceHint}");
        try { StoreDatabase.CheckIsStore(target); }
        catch (AgentFsException e)
        {
            throw new AgentFsException(e.Errno, $"{what} {target} exists and is not an AgentFs store, so it is not replaced; move it away or choose another path", e);
        }
        CheckNoLiveLease(target, what);
    }

    /// <summary>The checks of <see cref="CheckTarget"/> for a file that is not a store (an export): any existing file
    /// is replaced with overwrite.</summary>
    public static void CheckPlainTarget(string target, bool overwrite, string what)
    {
        CheckFilePath(target, what);
        // A tar or a patch over a store (the one exported, or any other) would destroy it: never replaced.
        if (File.Exists(target) && AgentStore.IsStoreFile(target))
            throw new AgentFsException(Errno.EEXIST, $"{what} {target} is an AgentFs store, which an {what} never replaces; choose another path");
        if (!overwrite && (File.Exists(target) || IsDanglingSymlink(target)))
            throw new AgentFsException(Errno.EEXIST, $"{what} {target} already exists; pass --force to replace it, or choose another path");
    }

    /// <summary>Refuses a target that is a directory, or whose directory is missing or not a directory.</summary>
    private static void CheckFilePath(string target, string what)
    {
        // Written through, a link would change the file it points to (another store, a file of the session's
        // user); replaced, it would surprise whoever made it. The real path is asked for instead.
        if (IsSymlink(target))
            throw new AgentFsException(Errno.ELOOP, $"{what} {target} is a symbolic link, which agentfs does not write through or replace; pass the path of a regular file, or remove the link");
        if (Directory.Exists(target))
            throw new AgentFsException(Errno.EISDIR, $"{what} {target} is a directory; pass a file path");
        string? dir = Path.GetDirectoryName(target);
        if (dir != null && !Directory.Exists(dir))
            throw new AgentFsException(File.Exists(dir) ? Errno.ENOTDIR : Errno.ENOENT,
                $"cannot write {what} {target}: {(File.Exists(dir) ? $"{dir} is not a directory" : $"directory {dir} does not exist")}");
    }

    public static bool IsSymlink(string path)
    {
        try { return new FileInfo(path).LinkTarget != null; }
        catch (IOException) { return false; }
    }

    private static bool IsDanglingSymlink(string path)
    {
        try { return new FileInfo(path).LinkTarget != null; }
        catch (IOException) { return false; }
    }

    /// <summary>Creates TARGET.tmp exclusively (a leftover of an interrupted run is removed when allowed).</summary>
    public static string CreateTemp(string target, bool removeLeftover, string what)
    {
        string tmp = TempPathFor(target);
        if (removeLeftover) DeleteWithSidecars(tmp);
        try
        {
            // 0600: a backup or an export holds the session's private files (a store's -wal and -shm follow its mode).
            StoreDatabase.CreatePrivateFile(tmp);
            return tmp;
        }
        catch (IOException e) when (File.Exists(tmp))
        {
            throw new AgentFsException(Errno.EEXIST,
                $"cannot write {what} {target}: {tmp} is in the way (another run is writing it, or one was interrupted); delete it or pass --force", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AgentFsException(e is UnauthorizedAccessException ? Errno.EACCES : Errno.EIO,
                $"cannot write {what} {target}: {Reason(e, Path.GetDirectoryName(target) ?? "/")}; choose a writable directory", e);
        }
    }

    private static string Reason(Exception e, string dir) => e switch
    {
        UnauthorizedAccessException => $"permission denied in {dir}",
        DirectoryNotFoundException => $"directory {dir} does not exist",
        FileNotFoundException => $"files cannot be created in {dir}",
        _ when e.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase) => $"{dir} is on a read-only file system",
        _ => e.Message.TrimEnd('.'),
    };

    public static void DeleteWithSidecars(string path)
    {
        foreach (var suffix in Sidecars.Prepend(""))
        {
            try { File.Delete(path + suffix); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>Refuses a store that a live process holds a branch of (a mount, or a library user writing it).</summary>
    private static void CheckNoLiveLease(string target, string what)
    {
        using var c = StoreDatabase.OpenConnection(target, readOnly: false);
        try
        {
            StoreDatabase.Exec(c, "PRAGMA busy_timeout=2000");
            CheckNoLiveLease(c, target, what);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 11 or 26) { /* a damaged store may be replaced */ }
        catch (SqliteException e) { throw StoreDatabase.Translate(e, target); }
    }

    private static void CheckNoLiveLease(SqliteConnection c, string target, string what)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT branch, pid, host, proc_start FROM leases ORDER BY branch";
        using var rd = cmd.ExecuteReader();
        while (rd.Read())
        {
            if (AgentStore.LiveLeaseHolder(rd, 1) is not int pid) continue;
            throw new AgentFsException(Errno.EBUSY,
                $"{what} {target} is in use: branch {rd.GetString(0)} is open for writing by process {pid} ({ProcessNames.Get(pid)}); unmount it or stop that process first");
        }
    }

    /// <summary>Renames the checked copy tmp to target, replacing an existing store only under the rules above.</summary>
    public static void MoveIntoPlace(string tmp, string target, bool overwrite, string what)
    {
        if (!File.Exists(target))
        {
            DeleteStaleSidecars(target);
            try { File.Move(tmp, target, overwrite: false); }
            catch (IOException e) when (File.Exists(target))
            {
                throw new AgentFsException(Errno.EEXIST, $"{what} {target} appeared while the copy was made; it was left alone, try again", e);
            }
            SyncDirectory(target);
            return;
        }
        if (!overwrite) throw new AgentFsException(Errno.EEXIST, $"{what} {target} already exists");
        StoreDatabase.CheckIsStore(target);

        SqliteConnection? old = StoreDatabase.OpenConnection(target, readOnly: false);
        bool switched = false;
        try
        {
            StoreDatabase.Exec(old, "PRAGMA busy_timeout=500");
            CheckNoLiveLease(old, target, what);
            string mode;
            try { mode = (string)Quick(old, "PRAGMA journal_mode=DELETE")!; }
            catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6) { mode = "busy"; }
            if (!string.Equals(mode, "delete", StringComparison.OrdinalIgnoreCase))
                throw InUse(target, what);
            switched = true;
            try { Quick(old, "BEGIN EXCLUSIVE"); }
            catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6) { throw InUse(target, what); }
            // We are the only connection now: what is left beside the old file is stale.
            DeleteStaleSidecars(target);
            File.Move(tmp, target, overwrite: true);
            switched = false;
            SyncDirectory(target);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 11 or 26)
        {
            // The old store is damaged (the usual reason to restore over it): nothing in it can be trusted,
            // including its leases. Replace it without the lock.
            old.Dispose();
            old = null;
            DeleteStaleSidecars(target);
            File.Move(tmp, target, overwrite: true);
            SyncDirectory(target);
        }
        catch (SqliteException e) { throw StoreDatabase.Translate(e, target); }
        finally
        {
            if (old != null)
            {
                if (switched)
                {
                    // The replace did not happen: give the old store its WAL mode back.
                    try { StoreDatabase.Exec(old, "ROLLBACK"); } catch (SqliteException) { }
                    try { StoreDatabase.Exec(old, "PRAGMA journal_mode=WAL"); } catch (SqliteException) { }
                }
                old.Dispose();
            }
        }
    }

    /// <summary>Runs one statement giving up after about a second of SQLITE_BUSY (Microsoft.Data.Sqlite otherwise retries
    /// for the command timeout): a connection that keeps the store open will not go away by waiting.</summary>
    private static object? Quick(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.CommandTimeout = 1;
        return cmd.ExecuteScalar();
    }

    private static AgentFsException InUse(string target, string what) => new(Errno.EBUSY,
        $"{what} {target} is in use (open in another process, such as a command still running, or still open in this one); close it and try again");

    private static void DeleteStaleSidecars(string target)
    {
        foreach (var suffix in new[] { "-wal", "-shm" })
            if (File.Exists(target + suffix)) File.Delete(target + suffix);
    }

    /// <summary>fsync of a finished copy before it takes its name (it was written without syncs).</summary>
    public static void SyncFile(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        f.Flush(flushToDisk: true);
    }

    /// <summary>fsync of the directory holding path, so a rename in it is durable.</summary>
    public static unsafe void SyncDirectory(string path)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
        byte[] z = Encoding.UTF8.GetBytes(dir + "\0");
        int fd;
        fixed (byte* p = z) fd = LibC.openat(LibC.AT_FDCWD, p, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0);
        if (fd < 0) return;
        LibC.fsync(fd);
        LibC.close(fd);
    }

    /// <summary>Whether two paths name the same file (after following symlinks).</summary>
    public static bool SameFile(string a, string b)
    {
        static string Final(string p)
        {
            try { return new FileInfo(p).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(p); }
            catch (IOException) { return Path.GetFullPath(p); }
        }
        return string.Equals(Final(a), Final(b), StringComparison.Ordinal);
    }
}
