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
    public readonly SqliteCommand DentryVersions, DirectoryRows, InodeVersions, ChunkVersions, ChunkIndexesFrom, ChunkIndexes;

    public StoreReader(string path)
    {
        Connection = StoreDatabase.OpenConnection(path, readOnly: true);
        DentryVersions = StoreDatabase.Prepare(Connection, "SELECT layer, ino, type FROM dentries WHERE parent=$p AND name=$n", "$p", "$n");
        DirectoryRows = StoreDatabase.Prepare(Connection, "SELECT name, layer, ino, type FROM dentries WHERE parent=$p", "$p");
        InodeVersions = StoreDatabase.Prepare(Connection, $"SELECT layer, {InodeColumns} FROM inodes WHERE ino=$i", "$i");
        ChunkVersions = StoreDatabase.Prepare(Connection, "SELECT layer, data FROM chunks WHERE ino=$i AND idx=$x", "$i", "$x");
        ChunkIndexesFrom = StoreDatabase.Prepare(Connection, "SELECT idx FROM chunks WHERE ino=$i AND layer=$l AND idx>=$x", "$i", "$l", "$x");
        ChunkIndexes = StoreDatabase.Prepare(Connection, "SELECT DISTINCT idx, layer FROM chunks WHERE ino=$i ORDER BY idx", "$i");
    }

    /// <summary>Reads the inode columns starting at column <paramref name="first"/>.</summary>
    public static InodeRecord ReadInode(SqliteDataReader r, ulong ino, int first)
    {
        var rec = new InodeRecord
        {
            Ino = ino,
            Mode = (uint)r.GetInt64(first), Uid = (uint)r.GetInt64(first + 1), Gid = (uint)r.GetInt64(first + 2),
            Nlink = (uint)r.GetInt64(first + 3), Size = r.GetInt64(first + 4), AtimeNs = r.GetInt64(first + 5),
            MtimeNs = r.GetInt64(first + 6), CtimeNs = r.GetInt64(first + 7), Rdev = (ulong)r.GetInt64(first + 8),
            Origin = r.IsDBNull(first + 9) ? null : (byte[])r.GetValue(first + 9),
            HideFrom = r.GetInt64(first + 10),
            Target = r.IsDBNull(first + 16) ? null : (byte[])r.GetValue(first + 16),
            Xattrs = InodeRecord.DeserializeXattrs(r.IsDBNull(first + 17) ? null : (byte[])r.GetValue(first + 17)),
            XattrsFromBase = r.GetInt64(first + 18) != 0,
        };
        if (!r.IsDBNull(first + 11))
            rec.BaseId = new BaseIdentity((ulong)r.GetInt64(first + 11), (ulong)r.GetInt64(first + 12), r.GetInt64(first + 13),
                r.GetInt64(first + 14), r.GetInt64(first + 15));
        return rec;
    }

    public void Dispose()
    {
        DentryVersions.Dispose(); DirectoryRows.Dispose(); InodeVersions.Dispose(); ChunkVersions.Dispose();
        ChunkIndexesFrom.Dispose(); ChunkIndexes.Dispose();
        Connection.Dispose();
    }
}
