using Microsoft.Data.Sqlite;
using SQLitePCL;
using AgentFs.Store;

namespace AgentFs;

/// <summary>
/// Copies a store file into a new file with SQLite's online backup API, a few MiB per step, all from one
/// read snapshot of the source.
///
/// Why the copy is consistent while a mount writes the store: the source connection opens a read
/// transaction before the first step and holds it until the last, so every step copies pages of the same
/// snapshot (the last commit before the copy began). In WAL mode a reader never blocks the writer: commits
/// go on appending to the WAL while we copy; only WAL checkpoints cannot move past our snapshot until we
/// finish, so the WAL grows by what is written meanwhile. (Without the held transaction SQLite restarts the
/// copy whenever another process commits, which, with a commit every 500 ms, would never end for a large
/// store.) Stepping rather than copying in one call is what lets us report progress and be cancelled.
/// </summary>
internal static class StoreCopy
{
    /// <summary>4 MiB per step with the store's 16 KiB pages.</summary>
    public const int PagesPerStep = 256;

    /// <summary>Copies source (a store, possibly open elsewhere) into destination (an existing empty file).</summary>
    public static (long Pages, int PageSize) Copy(string sourcePath, string destinationPath,
        IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        using var src = StoreDatabase.OpenForReading(sourcePath, out _);
        using var dst = OpenDestination(destinationPath);
        using var snapshot = src.BeginTransaction(deferred: true);
        int pageSize;
        try
        {
            // The first read starts the read transaction: from here on this connection sees one snapshot.
            pageSize = Convert.ToInt32(StoreDatabase.Scalar(src, "PRAGMA page_size", snapshot));
            StoreDatabase.Scalar(src, "SELECT count(*) FROM sqlite_schema", snapshot);
        }
        catch (SqliteException e) { throw StoreDatabase.Translate(e, sourcePath); }

        // The destination is a new temporary file: no journal, no syncs while copying (it is synced before it is used).
        StoreDatabase.Exec(dst, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16384;");
        var backup = raw.sqlite3_backup_init(dst.Handle, "main", src.Handle, "main");
        if (backup == null)
            throw Failed(raw.sqlite3_errcode(dst.Handle), raw.sqlite3_errmsg(dst.Handle).utf8_to_string(), destinationPath);
        int rc = raw.SQLITE_OK, total = 0, busyRetries = 0;
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                rc = raw.sqlite3_backup_step(backup, PagesPerStep);
                total = raw.sqlite3_backup_pagecount(backup);
                if (rc is raw.SQLITE_BUSY or raw.SQLITE_LOCKED && ++busyRetries < 1000)
                {
                    Thread.Sleep(10);
                    continue;
                }
                progress?.Report(new BackupProgress(total - raw.sqlite3_backup_remaining(backup), total, pageSize));
                if (rc != raw.SQLITE_OK) break;
            }
        }
        finally
        {
            int finished = raw.sqlite3_backup_finish(backup);
            if (rc == raw.SQLITE_DONE && finished != raw.SQLITE_OK) rc = finished;
        }
        if (rc != raw.SQLITE_DONE)
        {
            // Errors of a step (disk full, I/O) are reported on the destination; BUSY means the source stayed locked.
            string msg = raw.sqlite3_errmsg(dst.Handle).utf8_to_string();
            throw Failed(rc, msg, rc is raw.SQLITE_BUSY or raw.SQLITE_LOCKED ? sourcePath : destinationPath);
        }
        snapshot.Rollback();
        return (total, pageSize);
    }

    private static SqliteConnection OpenDestination(string path)
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false,
            Cache = SqliteCacheMode.Private,
        }.ToString());
        try
        {
            c.Open();
            StoreDatabase.Harden(c);
        }
        catch (SqliteException e)
        {
            c.Dispose();
            throw StoreDatabase.Translate(e, path);
        }
        return c;
    }

    private static AgentFsException Failed(int rc, string message, string path) =>
        StoreDatabase.Translate(new SqliteException(message, rc & 0xff, rc), path);

    /// <summary>
    /// Makes a fresh copy a store of its own and checks it: the lease rows it carries (those of the processes that
    /// had branches open while the copy was taken) are cleared, since no process holds the copy; the journal
    /// mode is WAL like every store's; and it must pass PRAGMA quick_check and have the rows a store needs.
    /// The connection is closed before returning, which removes the copy's -wal and -shm: the copy is one file.
    /// </summary>
    public static CopyIdentity PrepareCopy(string path, string describeAs)
    {
        StoreDatabase.CheckIsStore(path);
        int cleared;
        string baseDir, storeId;
        using (var c = StoreDatabase.OpenConnection(path, readOnly: false))
        {
            try
            {
                StoreDatabase.Exec(c, "PRAGMA busy_timeout=0");
                StoreVerifier.Verify(c, path, "copy");
                string mode = (string)StoreDatabase.Scalar(c, "PRAGMA journal_mode=WAL")!;
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                    throw new AgentFsException(Errno.EIO, $"{describeAs} could not be put in WAL mode (it is in {mode} mode)");
                cleared = StoreDatabase.NonQuery(c, "DELETE FROM leases");
                var problems = new List<string>();
                using (var cmd = c.CreateCommand())
                {
                    cmd.CommandText = "PRAGMA quick_check";
                    using var rd = cmd.ExecuteReader();
                    while (rd.Read()) problems.Add(rd.GetString(0));
                }
                if (problems.Count != 1 || problems[0] != "ok")
                    throw new AgentFsException(Errno.EIO, $"{describeAs} failed SQLite's integrity check ({problems.FirstOrDefault()}); nothing was replaced");
                object? Meta(string key) => StoreDatabase.Scalar(c, "SELECT value FROM meta WHERE key=$k", null, ("$k", key))
                    ?? throw new AgentFsException(Errno.EIO, $"{describeAs} has no {key} recorded; it is not a complete AgentFs store");
                baseDir = Convert.ToString(Meta("base"))!;
                storeId = Convert.ToString(Meta("store_id"))!;
                Meta("chunk_size");
                if (StoreDatabase.Scalar(c, "SELECT count(*) FROM branches") is long n && n == 0)
                    throw new AgentFsException(Errno.EIO, $"{describeAs} has no branch; it is not a complete AgentFs store");
            }
            catch (SqliteException e) { throw StoreDatabase.Translate(e, path); }
        }
        return new CopyIdentity(cleared, baseDir, storeId);
    }
}

/// <summary>What a checked copy of a store records, and how many stale leases were cleared in it.</summary>
internal readonly record struct CopyIdentity(int LeasesCleared, string BaseDirectory, string StoreId);
