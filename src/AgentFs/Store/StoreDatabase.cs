using System.Text;
using Microsoft.Data.Sqlite;

namespace AgentFs.Store;

/// <summary>Opens SQLite connections to a store file with the store's settings and checks what the file is.</summary>
internal static class StoreDatabase
{
    private static readonly byte[] SqliteMagic = "SQLite format 3\0"u8.ToArray();

    public static SqliteConnection OpenConnection(string path, bool readOnly)
    {
        var csb = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWrite,
            Pooling = false,
            Cache = SqliteCacheMode.Private,
            DefaultTimeout = 30,
        };
        var c = new SqliteConnection(csb.ToString());
        try
        {
            c.Open();
            Exec(c, "PRAGMA busy_timeout=10000; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456;");
        }
        catch (SqliteException e)
        {
            c.Dispose();
            throw Translate(e, path);
        }
        return c;
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
        11 => new AgentFsException(Errno.EIO, $"store {path} is corrupt (SQLite: {FirstLine(e.Message)}); restore it from a backup", e),
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
