using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace AgentFs.Store;

/// <summary>
/// A prepared statement on SQLite's own API (through SQLitePCL.raw), for the hot paths: binding spans and
/// reading blobs as spans costs no managed allocation, unlike ADO.NET parameters. It runs on the
/// connection's handle, so it takes part in the connection's current transaction. One thread at a time.
/// </summary>
internal sealed class RawStatement : IDisposable
{
    private const int SQLITE_ROW = 100, SQLITE_DONE = 101, SQLITE_NULL = 5;
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _stmt;

    public RawStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("the connection is not open");
        int rc = raw.sqlite3_prepare_v2(_db, sql, out _stmt);
        if (rc != 0) throw Error(rc);
    }

    public RawStatement Bind(int index, long value) { Check(raw.sqlite3_bind_int64(_stmt, index, value)); return this; }

    public RawStatement Bind(int index, ReadOnlySpan<byte> value)
    {
        // An empty span would bind NULL; bind a zero-length blob instead.
        Check(value.IsEmpty ? raw.sqlite3_bind_zeroblob(_stmt, index, 0) : raw.sqlite3_bind_blob(_stmt, index, value));
        return this;
    }

    public RawStatement BindBlobOrNull(int index, byte[]? value) =>
        value == null ? BindNull(index) : Bind(index, value.AsSpan());

    public RawStatement Bind(int index, long? value) => value.HasValue ? Bind(index, value.Value) : BindNull(index);

    public RawStatement Bind(int index, string value) { Check(raw.sqlite3_bind_text(_stmt, index, value)); return this; }

    public RawStatement BindNull(int index) { Check(raw.sqlite3_bind_null(_stmt, index)); return this; }

    /// <summary>Runs a statement that returns no rows, then resets it for the next use.</summary>
    public void Execute()
    {
        int rc = raw.sqlite3_step(_stmt);
        raw.sqlite3_reset(_stmt);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) throw Error(rc);
    }

    /// <summary>The next row (true) or the end (false, and the statement is reset).</summary>
    public bool Step()
    {
        int rc = raw.sqlite3_step(_stmt);
        if (rc == SQLITE_ROW) return true;
        raw.sqlite3_reset(_stmt);
        if (rc != SQLITE_DONE) throw Error(rc);
        return false;
    }

    public void Reset() => raw.sqlite3_reset(_stmt);

    public long Int64(int column) => raw.sqlite3_column_int64(_stmt, column);
    public bool IsNull(int column) => raw.sqlite3_column_type(_stmt, column) == SQLITE_NULL;
    public ReadOnlySpan<byte> Blob(int column) => raw.sqlite3_column_blob(_stmt, column);
    public byte[]? BlobOrNull(int column) => IsNull(column) ? null : Blob(column).ToArray();

    private void Check(int rc)
    {
        if (rc != 0) throw Error(rc);
    }

    private SqliteException Error(int rc) => new(raw.sqlite3_errmsg(_db).utf8_to_string(), rc, raw.sqlite3_extended_errcode(_db));

    public void Dispose() => _stmt.Dispose();
}
