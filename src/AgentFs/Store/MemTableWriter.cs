using Microsoft.Data.Sqlite;
using AgentFs.Overlay;

namespace AgentFs.Store;

/// <summary>
/// Moves a branch view's memtable into its top layer's rows: the prepared statements on the store's writer
/// connection (they take part in its transaction), and what each kind of change becomes. A removed dentry
/// deletes the top layer's row, a whiteout is a row with inode 0; the chunks of an inode gone from the top
/// layer (unlinked and closed) are deleted instead of written; the memtable's operations become rows of the operation log (OperationLogWriter).
/// </summary>
internal sealed class MemTableWriter : IDisposable
{
    /// <summary>AGENTFS_TRACE_COMMITS=1: one line per commit and per phase of it on stderr.</summary>
    private readonly TextWriter? _commitLog;

    private readonly RawStatement _putDentry, _delDentry, _putInode, _delInode, _putChunk, _delChunk, _delChunks;
    private readonly OperationLogWriter _ops;

    /// <param name="c">The store's writer connection.</param>
    /// <param name="commitLog">Where each commit's phase times are written (StoreOptions.CommitLog); null: nowhere.</param>
    public MemTableWriter(SqliteConnection c, TextWriter? commitLog)
    {
        _commitLog = commitLog;
        _putDentry = new RawStatement(c, "INSERT OR REPLACE INTO dentries(parent, name, layer, ino, type) VALUES(?1,?2,?3,?4,?5)");
        _delDentry = new RawStatement(c, "DELETE FROM dentries WHERE parent=?1 AND name=?2 AND layer=?3");
        _putInode = new RawStatement(c,
            $"INSERT OR REPLACE INTO inodes(ino, layer, {StoreReader.InodeColumns}) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)");
        _delInode = new RawStatement(c, "DELETE FROM inodes WHERE ino=?1 AND layer=?2");
        _putChunk = new RawStatement(c, "INSERT INTO chunks(ino, idx, layer, data) VALUES(?1,?2,?3,?4) ON CONFLICT(ino, idx, layer) DO UPDATE SET data=excluded.data");
        _delChunk = new RawStatement(c, "DELETE FROM chunks WHERE ino=?1 AND idx=?2 AND layer=?3");
        _delChunks = new RawStatement(c, "DELETE FROM chunks WHERE ino=?1 AND layer=?2");
        _ops = new OperationLogWriter(c);
    }

    public void Dispose()
    {
        foreach (var st in new[] { _putDentry, _delDentry, _putInode, _delInode, _putChunk, _delChunk, _delChunks }) st.Dispose();
        _ops.Dispose();
    }

    public void Write(MemTable t, string branch)
    {
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        long layer = t.Layer;
        foreach (var inner in t.Dentries.Values)
        {
            foreach (var (k, v) in inner)
            {
                if (v.IsRemoved) _delDentry.Bind(1, (long)k.Parent).Bind(2, k.Name).Bind(3, layer).Execute();
                else _putDentry.Bind(1, (long)k.Parent).Bind(2, k.Name).Bind(3, layer).Bind(4, (long)v.Ino).Bind(5, (long)v.Type).Execute();
            }
        }
        long tDentries = System.Diagnostics.Stopwatch.GetTimestamp();
        foreach (var (k, cb) in t.Chunks)
        {
            if (t.Inodes.TryGetValue(k.Ino, out var owner) && (owner == null || owner.Nlink == 0 && !owner.IsDirectory)) continue;
            if (cb == null) _delChunk.Bind(1, (long)k.Ino).Bind(2, k.Index).Bind(3, layer).Execute();
            else _putChunk.Bind(1, (long)k.Ino).Bind(2, k.Index).Bind(3, layer).Bind(4, cb.Data.AsSpan(0, cb.Length)).Execute();
        }
        long tChunks = System.Diagnostics.Stopwatch.GetTimestamp();
        foreach (var (ino, rec) in t.Inodes)
        {
            if (rec == null || rec.Nlink == 0 && !rec.IsDirectory) _delChunks.Bind(1, (long)ino).Bind(2, layer).Execute();
            if (rec == null)
            {
                _delInode.Bind(1, (long)ino).Bind(2, layer).Execute();
                continue;
            }
            var b = rec.BaseId;
            _putInode.Bind(1, (long)ino).Bind(2, layer).Bind(3, (long)rec.Mode).Bind(4, (long)rec.Uid).Bind(5, (long)rec.Gid)
                .Bind(6, (long)rec.Nlink).Bind(7, rec.Size).Bind(8, rec.AtimeNs).Bind(9, rec.MtimeNs).Bind(10, rec.CtimeNs)
                .Bind(11, (long)rec.Rdev).BindBlobOrNull(12, rec.Origin).Bind(13, rec.HideFrom)
                .Bind(14, b.HasValue ? (long)b.Value.Dev : null).Bind(15, b.HasValue ? (long)b.Value.Ino : null)
                .Bind(16, b?.Size).Bind(17, b?.MtimeNs).Bind(18, b?.CtimeNs)
                .BindBlobOrNull(19, rec.Target).BindBlobOrNull(20, InodeRecord.SerializeXattrs(rec.Xattrs))
                .Bind(21, rec.XattrsFromBase ? 1L : 0L).Execute();
        }
        long tInodes = System.Diagnostics.Stopwatch.GetTimestamp();
        _commitLog?.WriteLine($"agentfs: apply dentries {System.Diagnostics.Stopwatch.GetElapsedTime(t0, tDentries).TotalMilliseconds:F1} ms, chunks {System.Diagnostics.Stopwatch.GetElapsedTime(tDentries, tChunks).TotalMilliseconds:F1} ms, inodes {System.Diagnostics.Stopwatch.GetElapsedTime(tChunks, tInodes).TotalMilliseconds:F1} ms");
        if (t.Ops.Count > 0)
            _ops.Write(t.Ops, branch, layer);
    }
}
