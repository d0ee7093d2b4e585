using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace AgentFs.Overlay;

/// <summary>A directory entry key: (parent inode, name bytes).</summary>
internal readonly struct DentryKey : IEquatable<DentryKey>
{
    public readonly ulong Parent;
    public readonly byte[] Name;
    private readonly int _hash;

    public DentryKey(ulong parent, byte[] name)
    {
        Parent = parent;
        Name = name;
        var h = new HashCode();
        h.Add(parent);
        h.AddBytes(name);
        _hash = h.ToHashCode();
    }

    public bool Equals(DentryKey o) => Parent == o.Parent && Name.AsSpan().SequenceEqual(o.Name);
    public override bool Equals(object? obj) => obj is DentryKey k && Equals(k);
    public override int GetHashCode() => _hash;
}

/// <summary>A dentry in the top layer: Ino 0 is a whiteout; <see cref="Removed"/> means the top layer has no row.</summary>
internal readonly record struct DentryValue(ulong Ino, byte Type)
{
    public static readonly DentryValue Removed = new(ulong.MaxValue, 0);
    public bool IsRemoved => Ino == ulong.MaxValue;
    public bool IsWhiteout => Ino == 0;
}

internal readonly record struct ChunkKey(ulong Ino, long Index);

/// <summary>A chunk being written: bytes [0, Length) of Data are the chunk; past Length it reads as zeros.</summary>
internal sealed class ChunkBuffer
{
    public byte[] Data;
    public int Length;

    public ChunkBuffer(int capacity) => Data = capacity == 0 ? [] : new byte[capacity];

    /// <summary>Makes room for a whole chunk that the caller is about to overwrite entirely. A new, empty buffer
    /// is not zeroed (all of it is written before <see cref="Length"/> covers it, and readers read no further
    /// than Length), which saves clearing every byte of a sequential write.</summary>
    public void PrepareForFullOverwrite(int chunkSize)
    {
        if (Length == 0 && Data.Length < chunkSize) Data = GC.AllocateUninitializedArray<byte>(chunkSize);
        else EnsureCapacity(chunkSize, chunkSize);
    }

    public void EnsureCapacity(int needed, int chunkSize)
    {
        if (needed <= Data.Length) return;
        int cap = Math.Min(chunkSize, Math.Max(needed, Math.Max(4096, Data.Length * 2)));
        var n = new byte[cap];
        Data.AsSpan(0, Length).CopyTo(n);
        Data = n;
    }
}

/// <summary>One logged operation; Path (and To, for a rename) as they were when it ran, null when not known; the
/// caller's process name read when it ran (a short-lived process is gone by the time its operations are committed).</summary>
internal readonly record struct OpLogEntry(long TimeNs, string Op, ulong Ino, ulong Parent, byte[]? Name, long Bytes, Caller Caller,
    byte[]? Path = null, byte[]? To = null, string ProcessName = "");

/// <summary>
/// The not-yet-committed changes of a branch's top layer. Readers look here first (current, then the
/// table being flushed), then in SQLite. Writers change only the current table, under the write lock;
/// once swapped out for flushing a table is immutable. A null value means "the top layer has no row".
/// </summary>
internal sealed class MemTable
{
    public MemTable(long layer) => Layer = layer;

    /// <summary>The top layer these changes belong to.</summary>
    public readonly long Layer;
    /// <summary>Dentries by parent inode, then by (parent, name).</summary>
    public readonly ConcurrentDictionary<ulong, ConcurrentDictionary<DentryKey, DentryValue>> Dentries = new();
    public readonly ConcurrentDictionary<ulong, InodeRecord?> Inodes = new();
    public readonly ConcurrentDictionary<ChunkKey, ChunkBuffer?> Chunks = new();
    /// <summary>Writer-only index: the chunk indexes of an inode present in <see cref="Chunks"/>.</summary>
    public readonly Dictionary<ulong, HashSet<long>> ChunksByIno = new();
    public readonly List<OpLogEntry> Ops = new();
    public long DirtyBytes;
    /// <summary>Records added to <see cref="Inodes"/> (under the write lock): ConcurrentDictionary.Count takes
    /// every bucket lock, too dear for a check after each mutation.</summary>
    public int RecordCount;
    public long FirstChangeTicks;
    public bool IsEmpty => Dentries.IsEmpty && Inodes.IsEmpty && Chunks.IsEmpty && Ops.Count == 0;

    public bool TryGetDentry(in DentryKey key, out DentryValue value)
    {
        if (Dentries.TryGetValue(key.Parent, out var inner) && inner.TryGetValue(key, out value)) return true;
        value = default;
        return false;
    }

    public void SetDentry(in DentryKey key, DentryValue value) =>
        Dentries.GetOrAdd(key.Parent, static _ => new ConcurrentDictionary<DentryKey, DentryValue>())[key] = value;

    public void NoteChange(long bytes)
    {
        if (FirstChangeTicks == 0) FirstChangeTicks = Environment.TickCount64;
        DirtyBytes += bytes;
    }

    public void SetChunk(ChunkKey key, ChunkBuffer? value)
    {
        Chunks[key] = value;
        if (!ChunksByIno.TryGetValue(key.Ino, out var set)) ChunksByIno[key.Ino] = set = new HashSet<long>();
        set.Add(key.Index);
    }
}
