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
    public readonly RawStatement DentryVersions, DirectoryRows, InodeVersions, ChunkVersions, ChunkIndexesFrom, ChunkOutOfRange;

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
        // A chunk agentfs never writes: before the file's start, or past the end of every version of the file (a chunk
        // row lies within the size of its layer's inode row). One statement, so one snapshot; two index seeks.
        ChunkOutOfRange = new RawStatement(Connection,
            "SELECT idx, layer FROM chunks WHERE ino=?1 AND idx<0 UNION ALL " +
            "SELECT idx, layer FROM chunks WHERE ino=?1 AND idx>(SELECT coalesce(max(CASE WHEN size>0 THEN (size-1)/?2 ELSE -1 END), -1) FROM inodes WHERE ino=?1) LIMIT 1");
    }

    /// <summary>
    /// Reads the inode columns of the current row starting at column <paramref name="first"/>, refusing (as a corrupt
    /// store) values agentfs never writes: a mode that is not one of the seven file types with permission bits, an
    /// owner, group or link count beyond 32 bits, a negative size or hide_from, a symbolic link without a target, an
    /// xattr blob that does not decode. A few compares: every record read from SQLite passes here once.
    /// </summary>
    public static InodeRecord ReadInode(RawStatement r, ulong ino, int first, long layer, string store)
    {
        long mode = r.Int64(first), uid = r.Int64(first + 1), gid = r.Int64(first + 2), nlink = r.Int64(first + 3);
        long size = r.Int64(first + 4), hideFrom = r.Int64(first + 10);
        string? bad = null;
        if ((ulong)mode > 0xFFFF || !PosixMode.IsKnownType((uint)mode)) bad = $"mode 0{Convert.ToString(mode, 8)}, which is none of the seven file types";
        else if ((ulong)uid > uint.MaxValue || (ulong)gid > uint.MaxValue) bad = $"owner {uid} and group {gid}, not 32-bit ids";
        else if ((ulong)nlink > uint.MaxValue) bad = $"link count {nlink}";
        else if (size < 0) bad = $"size {size}";
        else if (hideFrom < 0) bad = $"hide_from {hideFrom}";
        if (bad != null) throw BadInode(store, ino, layer, bad);
        var rec = new InodeRecord
        {
            Ino = ino,
            Mode = (uint)mode, Uid = (uint)uid, Gid = (uint)gid,
            Nlink = (uint)nlink, Size = size, AtimeNs = r.Int64(first + 5),
            MtimeNs = r.Int64(first + 6), CtimeNs = r.Int64(first + 7), Rdev = (ulong)r.Int64(first + 8),
            Origin = r.BlobOrNull(first + 9),
            HideFrom = hideFrom,
            Target = r.BlobOrNull(first + 16),
            XattrsFromBase = r.Int64(first + 18) != 0,
        };
        if (rec.IsSymlink && (rec.Target == null ? rec.Origin == null : rec.Target.Length is 0 or > 4095 || rec.Target.AsSpan().IndexOf((byte)0) >= 0))
            throw BadInode(store, ino, layer, "a symbolic link whose target is missing, empty, longer than 4095 bytes or holds NUL");
        if (r.BlobOrNull(first + 17) is { } xattrs)
            rec.Xattrs = InodeRecord.DeserializeXattrs(xattrs) ?? throw BadInode(store, ino, layer, $"an extended attribute blob of {xattrs.Length} bytes that does not decode");
        if (!r.IsNull(first + 11))
            rec.BaseId = new BaseIdentity((ulong)r.Int64(first + 11), (ulong)r.Int64(first + 12), r.Int64(first + 13),
                r.Int64(first + 14), r.Int64(first + 15));
        return rec;
    }

    private static AgentFsException BadInode(string store, ulong ino, long layer, string what) =>
        StoreCorruption.Error(store, $"inode {ino} has {what} (inode row of layer {layer})");

    /// <summary>Ends every statement: a caller that threw between two rows leaves its statement mid-query, holding
    /// a read snapshot, and the next Bind on it would fail.</summary>
    public void ResetStatements()
    {
        DentryVersions.Reset(); DirectoryRows.Reset(); InodeVersions.Reset(); ChunkVersions.Reset(); ChunkIndexesFrom.Reset(); ChunkOutOfRange.Reset();
    }

    public void Dispose()
    {
        DentryVersions.Dispose(); DirectoryRows.Dispose(); InodeVersions.Dispose(); ChunkVersions.Dispose();
        ChunkIndexesFrom.Dispose(); ChunkOutOfRange.Dispose();
        Connection.Dispose();
    }
}
