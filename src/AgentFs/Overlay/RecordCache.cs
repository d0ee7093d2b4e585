using System.Collections.Concurrent;

namespace AgentFs.Overlay;

/// <summary>
/// The inode records a writable view read from SQLite, with their depth, so that getattr, open and read of a file
/// whose record is not in a memtable need no query. Its rules, which every user relies on:
/// <list type="number">
/// <item>It holds only what SQLite says: records read by a query, records a commit has just written (those are
///   never changed again: writers copy a record into the current memtable before changing it), and
///   <see cref="NoStoreRecord"/> for an inode no layer has (an untouched base object; the base itself is still
///   asked each time, so an untouched file shows the base as it is now).</item>
/// <item>A commit moves the epoch when it takes its memtable and again when it is done
///   (<see cref="CommitStarting"/>, <see cref="Committed"/>), and replaces what it wrote. A query that ran while a
///   commit was under way may have read the state before it: <see cref="AddFromQuery"/> takes its entry back when
///   the epoch moved since the query started.</item>
/// <item>A change of the layer chain (checkpoint, rollback) empties it.</item>
/// <item>It is bounded: a commit that finds it over <see cref="Capacity"/> entries empties it.</item>
/// </list>
/// A read-only view has none: no commit of its own would tell it when SQLite changes.
/// </summary>
internal sealed class RecordCache
{
    public const int Capacity = 100_000;

    /// <summary>The entry of an inode that no layer has a record of: it comes from the base.</summary>
    public static readonly InodeRecord NoStoreRecord = new();

    private readonly ConcurrentDictionary<ulong, (InodeRecord Record, int Depth)> _entries = new();
    private long _epoch;

    /// <summary>Read before a query whose result is then passed to <see cref="AddFromQuery"/>.</summary>
    public long Epoch => Volatile.Read(ref _epoch);

    public bool TryGet(ulong ino, out InodeRecord record, out int depth)
    {
        if (_entries.TryGetValue(ino, out var e))
        {
            record = e.Record;
            depth = e.Depth;
            return true;
        }
        record = null!;
        depth = 0;
        return false;
    }

    /// <summary>Remembers what a query that started at <paramref name="epochBeforeQuery"/> read (rule 2).</summary>
    public void AddFromQuery(ulong ino, InodeRecord record, int depth, long epochBeforeQuery)
    {
        var entry = (record, depth);
        _entries[ino] = entry;
        if (Volatile.Read(ref _epoch) != epochBeforeQuery) _entries.TryRemove(new KeyValuePair<ulong, (InodeRecord, int)>(ino, entry));
    }

    /// <summary>A commit took its memtable: queries under way may read either side of it.</summary>
    public void CommitStarting() => Interlocked.Increment(ref _epoch);

    /// <summary>A commit wrote a memtable to the top layer: its records are what SQLite now says there.</summary>
    public void Committed(MemTable table)
    {
        foreach (var (ino, rec) in table.Inodes)
        {
            if (rec != null) _entries[ino] = (rec, 0);
            else _entries.TryRemove(ino, out _);
        }
        Interlocked.Increment(ref _epoch);
        if (_entries.Count > Capacity) _entries.Clear();
    }

    /// <summary>The chain changed: nothing cached holds any more.</summary>
    public void Clear()
    {
        _entries.Clear();
        Interlocked.Increment(ref _epoch);
    }
}
