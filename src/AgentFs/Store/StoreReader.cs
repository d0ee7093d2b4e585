using Microsoft.Data.Sqlite;
using AgentFs.Overlay;

namespace AgentFs.Store;

/// <summary>
/// One read connection with its prepared statements. Readers are pooled; each is used by one thread at a
/// time, and every statement runs in its own implicit read transaction so it sees all committed flushes.
/// </summary>
internal sealed class StoreReader : IDisposable
{
    public const string InodeColumns = "mode, uid, gid, nlink, size, atime_ns, mtime_ns, ctime_ns, rdev, origin, hide_from, " +
        "base_dev, base_ino, base_size, base_mtime_ns, base_ctime_ns, target, xattrs, xattrs_from_base";

    public readonly SqliteConnection Connection;
    public readonly RawStatement DentryVersions, DirectoryRows, InodeVersions, ChunkVersions, ChunkIndexesFrom;

    public StoreReader(string path, bool immutable)
    {
        Connection = StoreDatabase.OpenConnection(path, readOnly: true, immutable);
        // The *Versions statements list a key's rows newest layer first (a child layer's id is larger than its
        // parent's), so the callers' nearest-layer loops take the first row of the chain and skip the rest
        // without decoding them. SQLite walks the key's index backwards; there is no sort.
        DentryVersions = new RawStatement(Connection, "SELECT layer, ino, type FROM dentries WHERE parent=?1 AND name=?2 ORDER BY layer DESC");
        DirectoryRows = new RawStatement(Connection, "SELECT name, layer, ino, type FROM dentries WHERE parent=?1");
        InodeVersions = new RawStatement(Connection, $"SELECT layer, {InodeColumns} FROM inodes WHERE ino=?1 ORDER BY layer DESC");
        ChunkVersions = new RawStatement(Connection, "SELECT layer, data FROM chunks WHERE ino=?1 AND idx=?2 ORDER BY layer DESC");
        ChunkIndexesFrom = new RawStatement(Connection, "SELECT idx FROM chunks WHERE ino=?1 AND layer=?2 AND idx>=?3");
    }

    /// <summary>Reads the inode columns of the current row starting at column <paramref name="first"/>.</summary>
    public static InodeRecord ReadInode(RawStatement r, ulong ino, int first)
    {
        var rec = new InodeRecord
        {
            Ino = ino,
            Mode = (uint)r.Int64(first), Uid = (uint)r.Int64(first + 1), Gid = (uint)r.Int64(first + 2),
            Nlink = (uint)r.Int64(first + 3), Size = r.Int64(first + 4), AtimeNs = r.Int64(first + 5),
            MtimeNs = r.Int64(first + 6), CtimeNs = r.Int64(first + 7), Rdev = (ulong)r.Int64(first + 8),
            Origin = r.BlobOrNull(first + 9),
            HideFrom = r.Int64(first + 10),
            Target = r.BlobOrNull(first + 16),
            Xattrs = InodeRecord.DeserializeXattrs(r.BlobOrNull(first + 17)),
            XattrsFromBase = r.Int64(first + 18) != 0,
        };
        if (!r.IsNull(first + 11))
            rec.BaseId = new BaseIdentity((ulong)r.Int64(first + 11), (ulong)r.Int64(first + 12), r.Int64(first + 13),
                r.Int64(first + 14), r.Int64(first + 15));
        return rec;
    }

    /// <summary>Ends every statement: a caller that threw between two rows leaves its statement mid-query, holding
    /// a read snapshot, and the next Bind on it would fail.</summary>
    public void ResetStatements()
    {
        DentryVersions.Reset(); DirectoryRows.Reset(); InodeVersions.Reset(); ChunkVersions.Reset(); ChunkIndexesFrom.Reset();
    }

    public void Dispose()
    {
        DentryVersions.Dispose(); DirectoryRows.Dispose(); InodeVersions.Dispose(); ChunkVersions.Dispose();
        ChunkIndexesFrom.Dispose();
        Connection.Dispose();
    }
}
