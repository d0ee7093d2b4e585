using Microsoft.Data.Sqlite;
using AgentFs.Store;

namespace AgentFs.Overlay;

/// <summary>
/// What the SQLite rows of a layer chain say about a key (an inode, a name in a directory, a chunk), for one
/// branch view. The memtables above the chain and the base below it are the view's business; this type is
/// only the rows.
///
/// The rule, stated once (<see cref="StepToNearest"/>): a key's rows are listed newest layer first (a child
/// layer's id is larger than its parent's, which loading a chain checks), so the first row whose layer is in
/// the chain, at or below the depth asked for, is the nearest one, and it wins; the rows after it are never
/// read. A row of a layer outside the chain (another branch, an abandoned top) is skipped.
///
/// Every query rents a pooled reader for its duration and turns SQLite's errors into the store's
/// (<see cref="Run{TArgs, TResult}"/>, the one place that does so).
/// </summary>
internal sealed class LayerReader
{
    private readonly AgentStore _store;

    public LayerReader(AgentStore store) => _store = store;

    /// <summary>
    /// Steps a statement whose column 0 is the layer and whose rows come newest layer first to the nearest row
    /// at depth <paramref name="minDepth"/> or deeper; false when there is none. On true the statement stands on
    /// that row (its columns can be read); the reader's statements are reset when it goes back to the pool.
    /// </summary>
    public static bool StepToNearest(RawStatement st, LayerChain chain, int minDepth, out int depth)
    {
        while (st.Step())
        {
            int d = chain.DepthOf(st.Int64(0));
            if (d >= minDepth)
            {
                depth = d;
                return true;
            }
        }
        depth = -1;
        return false;
    }

    // ---- the frame --------------------------------------------------------------------------------

    private delegate TResult Query<TArgs, TResult>(LayerReader self, StoreReader reader, LayerChain chain, ref TArgs args)
        where TArgs : allows ref struct;

    /// <summary>Runs a query on a rented reader: the one place that rents, translates SQLite's errors, and returns.
    /// The queries are static methods and their arguments a struct, so a call allocates nothing.</summary>
    private TResult Run<TArgs, TResult>(LayerChain chain, ref TArgs args, Query<TArgs, TResult> query)
        where TArgs : allows ref struct
    {
        var reader = _store.RentReader();
        try { return query(this, reader, chain, ref args); }
        catch (SqliteException e) { throw StoreDatabase.Translate(e, _store.Path); }
        finally { _store.ReturnReader(reader); }
    }

    // ---- inodes -----------------------------------------------------------------------------------

    private struct InodeArgs
    {
        public ulong Ino;
        public int MinDepth, Depth;
    }

    /// <summary>The nearest record of an inode at depth minDepth or deeper, with its depth; null when no layer has one.</summary>
    public InodeRecord? NearestInode(LayerChain chain, ulong ino, out int depth)
    {
        var args = new InodeArgs { Ino = ino };
        var rec = Run(chain, ref args, NearestInodeQuery);
        depth = args.Depth;
        return rec;
    }

    private static readonly Query<InodeArgs, InodeRecord?> NearestInodeQuery = static (self, r, chain, ref a) =>
    {
        var st = r.InodeVersions.Bind(1, (long)a.Ino);
        if (!StepToNearest(st, chain, a.MinDepth, out a.Depth)) return null;
        return StoreReader.ReadInode(st, a.Ino, 1, st.Int64(0), self._store.Path);
    };

    /// <summary>Whether a sealed layer (depth 1 or deeper) has a record of the inode.</summary>
    public bool HasSealedInode(LayerChain chain, ulong ino)
    {
        var args = new InodeArgs { Ino = ino, MinDepth = 1 };
        return Run(chain, ref args, HasInodeQuery);
    }

    private static readonly Query<InodeArgs, bool> HasInodeQuery = static (_, r, chain, ref a) =>
        StepToNearest(r.InodeVersions.Bind(1, (long)a.Ino), chain, a.MinDepth, out a.Depth);

    /// <summary>The hide_from of each sealed version of an inode, by depth (long.MaxValue where a depth has none).
    /// Not a nearest-wins question: a read below a depth is hidden by every version above it.</summary>
    public long[] SealedHideFrom(LayerChain chain, ulong ino)
    {
        var args = new InodeArgs { Ino = ino };
        return Run(chain, ref args, SealedHideFromQuery);
    }

    private static readonly Query<InodeArgs, long[]> SealedHideFromQuery = static (_, r, chain, ref a) =>
    {
        var hides = new long[chain.Length];
        Array.Fill(hides, long.MaxValue);
        var st = r.InodeVersions.Bind(1, (long)a.Ino);
        while (st.Step())
        {
            int d = chain.DepthOf(st.Int64(0));
            if (d >= 1) hides[d] = st.Int64(11);
        }
        return hides;
    };

    // ---- names ------------------------------------------------------------------------------------

    private struct DentryArgs
    {
        public ulong Parent;
        public byte[] Name;
        public int MinDepth;
        public ulong Ino;
        public byte Type;
    }

    /// <summary>
    /// The nearest row of a name in a directory at depth minDepth or deeper: false when no layer has one; true with
    /// the inode (0: a whiteout, the name is deleted there) and its d_type.
    /// </summary>
    public bool NearestDentry(LayerChain chain, ulong parent, byte[] name, int minDepth, out ulong ino, out byte type)
    {
        var args = new DentryArgs { Parent = parent, Name = name, MinDepth = minDepth };
        bool found = Run(chain, ref args, NearestDentryQuery);
        ino = args.Ino;
        type = args.Type;
        return found;
    }

    private static readonly Query<DentryArgs, bool> NearestDentryQuery = static (self, r, chain, ref a) =>
    {
        var st = r.DentryVersions.Bind(1, (long)a.Parent).Bind(2, a.Name);
        if (!StepToNearest(st, chain, a.MinDepth, out _)) return false;
        a.Ino = (ulong)st.Int64(1);
        a.Type = (byte)st.Int64(2);
        if (a.Ino == a.Parent || a.Ino == InodeNumbers.Root) throw self.DirectoryInItself(a.Parent, a.Name, a.Ino, st.Int64(0));
        return true;
    };

    private struct DirectoryArgs
    {
        public ulong Dir;
    }

    /// <summary>The nearest row of each name in a directory (the inode 0 of a whiteout included), by name.</summary>
    public Dictionary<byte[], (int Depth, ulong Ino, byte Type)> NearestEntries(LayerChain chain, ulong dir)
    {
        var args = new DirectoryArgs { Dir = dir };
        return Run(chain, ref args, NearestEntriesQuery);
    }

    private static readonly Query<DirectoryArgs, Dictionary<byte[], (int Depth, ulong Ino, byte Type)>> NearestEntriesQuery = static (self, r, chain, ref a) =>
    {
        // One query for the whole directory, in no layer order: here the nearest is kept by comparing depths.
        var best = new Dictionary<byte[], (int Depth, ulong Ino, byte Type)>(ByteArrayComparer.Instance);
        var st = r.DirectoryRows.Bind(1, (long)a.Dir);
        while (st.Step())
        {
            long layer = st.Int64(1);
            int d = chain.DepthOf(layer);
            if (d < 0) continue;
            var raw = st.Blob(0);
            if (StoreCorruption.BadName(raw) is { } why) throw StoreCorruption.BadNameError(self._store.Path, a.Dir, layer, why);
            ulong child = (ulong)st.Int64(2);
            if (child == a.Dir || child == InodeNumbers.Root) throw self.DirectoryInItself(a.Dir, raw, child, layer);
            byte[] name = raw.ToArray();
            if (best.TryGetValue(name, out var cur) && cur.Depth <= d) continue;
            best[name] = (d, child, (byte)st.Int64(3));
        }
        return best;
    };

    /// <summary>A dentry row that puts a directory's own inode, or the root, inside it: a walk would never end.</summary>
    public AgentFsException DirectoryInItself(ulong parentIno, ReadOnlySpan<byte> name, ulong ino, long layer) =>
        StoreCorruption.Error(_store.Path, $"directory inode {parentIno} holds '{StoreCorruption.Show(name)}', which is " +
            (ino == parentIno ? "that directory itself" : "the root") + $" (dentry row of layer {layer}); a directory cannot contain itself");

    // ---- chunks -----------------------------------------------------------------------------------

    private ref struct ChunkArgs
    {
        public ulong Ino;
        public long Index;
        public int MinDepth, ChunkSize, Depth;
        public Span<byte> Destination;
    }

    /// <summary>
    /// The nearest row of chunk <paramref name="index"/> at depth minDepth or deeper, copied into destination
    /// (chunk-sized): its length, and its depth (int.MaxValue when no layer has the chunk; then nothing is copied).
    /// </summary>
    public int NearestChunk(LayerChain chain, ulong ino, long index, int minDepth, int chunkSize, Span<byte> destination, out int depth)
    {
        var args = new ChunkArgs { Ino = ino, Index = index, MinDepth = minDepth, ChunkSize = chunkSize, Destination = destination };
        int length = Run(chain, ref args, NearestChunkQuery);
        depth = args.Depth;
        return length;
    }

    private static readonly Query<ChunkArgs, int> NearestChunkQuery = static (self, r, chain, ref a) =>
    {
        var st = r.ChunkVersions.Bind(1, (long)a.Ino).Bind(2, a.Index);
        if (!StepToNearest(st, chain, a.MinDepth, out a.Depth))
        {
            a.Depth = int.MaxValue;
            return 0;
        }
        var blob = st.Blob(1);
        if (blob.Length > a.ChunkSize)
            throw StoreCorruption.Error(self._store.Path, $"inode {a.Ino} has a chunk {a.Index} of {blob.Length} bytes, more than the chunk size {a.ChunkSize} (chunk row of layer {st.Int64(0)})");
        blob.CopyTo(a.Destination);
        return blob.Length;
    };

    private struct ChunkIndexArgs
    {
        public ulong Ino;
        public long Layer, First;
        public HashSet<long> Into;
    }

    /// <summary>Adds the indexes of the chunk rows one layer has for an inode, from <paramref name="first"/> on.</summary>
    public void AddChunkIndexesFrom(LayerChain chain, ulong ino, long layer, long first, HashSet<long> into)
    {
        var args = new ChunkIndexArgs { Ino = ino, Layer = layer, First = first, Into = into };
        Run(chain, ref args, ChunkIndexesQuery);
    }

    private static readonly Query<ChunkIndexArgs, int> ChunkIndexesQuery = static (_, r, _, ref a) =>
    {
        var st = r.ChunkIndexesFrom.Bind(1, (long)a.Ino).Bind(2, a.Layer).Bind(3, a.First);
        while (st.Step()) a.Into.Add(st.Int64(0));
        return 0;
    };

    private struct ChunkRangeArgs
    {
        public ulong Ino;
        public int ChunkSize;
    }

    /// <summary>
    /// Refuses a file with a chunk row agentfs never writes: at a negative index, or past the end of every version
    /// of the file. A read never asks for such an index, so without this the bytes it moved away from would silently
    /// read as zeros (or as the base). Two index seeks in one statement.
    /// </summary>
    public void CheckChunkRange(LayerChain chain, ulong ino, int chunkSize)
    {
        var args = new ChunkRangeArgs { Ino = ino, ChunkSize = chunkSize };
        Run(chain, ref args, ChunkRangeQuery);
    }

    private static readonly Query<ChunkRangeArgs, int> ChunkRangeQuery = static (self, r, _, ref a) =>
    {
        var st = r.ChunkOutOfRange.Bind(1, (long)a.Ino).Bind(2, a.ChunkSize);
        if (st.Step())
            throw StoreCorruption.Error(self._store.Path, $"inode {a.Ino} has a chunk at index {st.Int64(0)} (chunk row of layer {st.Int64(1)}), " +
                "outside the file (before its start or past the end of every version of it)");
        return 0;
    };
}
