using System.Text;
using Microsoft.Data.Sqlite;

namespace AgentFs.Store;

/// <summary>Opens SQLite connections to a store file with the store's settings and checks what the file is.</summary>
internal static class StoreDatabase
{
    private static readonly byte[] SqliteMagic = "SQLite format 3\0"u8.ToArray();

    /// <summary>Opens a connection. immutable: read a file that nobody can be writing (read-only media, or a file this
    /// user may only read, with no WAL to replay) without the -shm that WAL mode otherwise needs.</summary>
    public static SqliteConnection OpenConnection(string path, bool readOnly, bool immutable = false)
    {
        var csb = new SqliteConnectionStringBuilder
        {
            DataSource = immutable ? ImmutableUri(path) : path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWrite,
            Pooling = false,
            Cache = SqliteCacheMode.Private,
            DefaultTimeout = 30,
        };
        var c = new SqliteConnection(csb.ToString());
        try
        {
            c.Open();
            Harden(c);
            Exec(c, "PRAGMA busy_timeout=10000; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456;");
        }
        catch (SqliteException e)
        {
            c.Dispose();
            throw Translate(e, path);
        }
        return c;
    }

    /// <summary>A store file is untrusted input: SQL in its schema (a view, a trigger's body) must not run functions
    /// with side effects, and no extension may be loaded.</summary>
    public static void Harden(SqliteConnection c)
    {
        c.EnableExtensions(false);
        Exec(c, "PRAGMA trusted_schema=OFF;");
    }

    /// <summary>
    /// Opens a read-only connection and reads from it once. A WAL-mode file needs its -shm, which a reader creates;
    /// on read-only media, or for a user who may only read the file, that fails ("unable to open database file",
    /// or SQLITE_READONLY). Then, when there is no WAL holding changes (nobody is writing the file), the file is
    /// opened immutable (SQLite then reads it without -shm and without locks); with a non-empty WAL it is refused.
    /// </summary>
    public static SqliteConnection OpenForReading(string path, out bool immutable)
    {
        immutable = false;
        try
        {
            var c = OpenConnection(path, readOnly: true);
            try
            {
                Scalar(c, "SELECT count(*) FROM sqlite_schema");
                return c;
            }
            catch (SqliteException e) when (e.SqliteErrorCode is 8 or 14)
            {
                c.Dispose();
            }
            catch
            {
                c.Dispose();
                throw;
            }
        }
        catch (AgentFsException e) when (e.InnerException is SqliteException { SqliteErrorCode: 8 or 14 }) { }
        long walBytes = 0;
        try { walBytes = new FileInfo(path + "-wal").Exists ? new FileInfo(path + "-wal").Length : 0; }
        catch (IOException) { }
        if (walBytes > 0)
            throw new AgentFsException(Errno.EROFS,
                $"store {path} cannot be read here: its {path}-wal holds changes not yet in the file and its -shm cannot be created (read-only directory or file); copy the store with its -wal to a writable directory, or open it once where it can be written");
        immutable = true;
        var ic = OpenConnection(path, readOnly: true, immutable: true);
        try { Scalar(ic, "SELECT count(*) FROM sqlite_schema"); }
        catch (SqliteException e)
        {
            ic.Dispose();
            throw Translate(e, path);
        }
        return ic;
    }

    /// <summary>file: URI of path with immutable=1 (%, ? and # escaped, the rest as is).</summary>
    private static string ImmutableUri(string path)
    {
        var sb = new StringBuilder("file:");
        foreach (char ch in System.IO.Path.GetFullPath(path))
            sb.Append(ch switch { '%' => "%25", '?' => "%3f", '#' => "%23", _ => ch.ToString() });
        return sb.Append("?immutable=1").ToString();
    }

    /// <summary>Creates an empty file readable and writable by its owner only (0600): a store, its -wal and -shm
    /// (which SQLite creates with the mode of the database file) and copies of it hold the session's private files.</summary>
    public static void CreatePrivateFile(string path)
    {
        using var f = new FileStream(path, new FileStreamOptions
        {
            Mode = System.IO.FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
    }

    /// <summary>Refuses a file that is not a store before SQLite touches it (so nothing is ever written to it).</summary>
    public static void CheckIsStore(string path)
    {
        if (Directory.Exists(path))
            throw new AgentFsException(Errno.EISDIR, $"store {path} is a directory, not a store file; pass the path of the SQLite file made by 'agentfs init'");
        if (!File.Exists(path))
            throw new AgentFsException(Errno.ENOENT, $"store {path} does not exist; create it with 'agentfs init {path} --base DIR'");
        byte[] header = new byte[100];
        int n;
        try
        {
            using var f = new FileStream(path, System.IO.FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            n = f.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        }
        catch (UnauthorizedAccessException)
        {
            throw new AgentFsException(Errno.EACCES, $"store {path} cannot be read (permission denied)");
        }
        if (n < 100 || !header.AsSpan(0, 16).SequenceEqual(SqliteMagic))
            throw new AgentFsException(Errno.EINVAL, $"{path} is not an AgentFs store (not a SQLite file); pass the file made by 'agentfs init'");
        int appId = (header[68] << 24) | (header[69] << 16) | (header[70] << 8) | header[71];
        if (appId != StoreSchema.ApplicationId)
            throw new AgentFsException(Errno.EINVAL, $"{path} is a SQLite file but not an AgentFs store; pass the file made by 'agentfs init'");
        int version = (header[60] << 24) | (header[61] << 16) | (header[62] << 8) | header[63];
        if (version > StoreSchema.CurrentVersion)
            throw new AgentFsException(Errno.EINVAL, $"store {path} has schema version {version}, newer than this agentfs understands ({StoreSchema.CurrentVersion}); use a newer agentfs");
    }

    public static AgentFsException Translate(SqliteException e, string path) => e.SqliteErrorCode switch
    {
        11 => StoreCorruption.Error(path, $"SQLite says {FirstLine(e.Message)}", e),
        26 => new AgentFsException(Errno.EINVAL, $"{path} is not an AgentFs store (SQLite: file is not a database)", e),
        5 or 6 => new AgentFsException(Errno.EBUSY, $"store {path} is locked by another process for too long; try again", e),
        8 => new AgentFsException(Errno.EROFS, $"store {path} is read-only; check its permissions", e),
        13 => new AgentFsException(Errno.ENOSPC, $"store {path}: the disk is full", e),
        14 => new AgentFsException(Errno.EIO, $"store {path} cannot be opened (SQLite: {FirstLine(e.Message)})", e),
        _ => new AgentFsException(Errno.EIO, $"store {path}: SQLite error {e.SqliteErrorCode}: {FirstLine(e.Message)}", e),
    };

    private static string FirstLine(string s)
    {
        int i = s.IndexOf('\n');
        return (i < 0 ? s : s[..i]).Trim();
    }

    public static void Exec(SqliteConnection c, string sql, SqliteTransaction? tx = null)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public static object? Scalar(SqliteConnection c, string sql, SqliteTransaction? tx = null, params (string, object?)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
        return cmd.ExecuteScalar();
    }

    public static int NonQuery(SqliteConnection c, string sql, SqliteTransaction? tx = null, params (string, object?)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
        return cmd.ExecuteNonQuery();
    }

    public static string Utf8(byte[] b) => Encoding.UTF8.GetString(b);
}
