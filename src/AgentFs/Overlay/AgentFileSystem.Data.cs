using System.Collections.Concurrent;
using System.Buffers;
using AgentFs.Native;
using AgentFs.Overlay;
using AgentFs.Store;

namespace AgentFs;

public sealed partial class AgentFileSystem
{
    /// <summary>open(2): counts the open (an unlinked file lives until its last release) and applies O_TRUNC.</summary>
    private InodeAttributes Open(ulong ino, bool truncate = false, Caller? caller = null)
    {
        var rec = GetRecord(ino);
        if (rec.IsDirectory && truncate) throw new AgentFsException(Errno.EISDIR, $"inode {ino} is a directory");
        var ns = _nodes.GetOrAdd(ino, static _ => new NodeState());
        Interlocked.Increment(ref ns.Opens);
        if (truncate && rec.Size != 0)
            return SetAttr(ino, new SetAttrRequest(SetAttrFields.Size, Size: 0), caller);
        return rec.ToAttributes();
    }

    /// <summary>
    /// For FUSE passthrough: a read-only descriptor of the base file behind ino when the branch has never
    /// changed that file (no record in any layer), so the kernel may read the base directly. -1 otherwise.
    /// The caller closes it.
    /// </summary>
    private int TryOpenUntouchedBaseFile(ulong ino)
    {
        var rec = FindRecord(ino, null, out int depth);
        if (rec == null || depth != -1 || !rec.IsRegular || rec.Origin == null) return -1;
        try { return _base.OpenRead(rec.Origin); }
        catch (AgentFsException) { return -1; }
    }

    /// <summary>release(2): the last release of an unlinked file frees it.</summary>
    private void Release(ulong ino)
    {
        if (!_nodes.TryGetValue(ino, out var ns)) return;
        if (Interlocked.Decrement(ref ns.Opens) > 0 || IsReadOnly || _disposed) return;
        lock (_writeLock)
        {
            if (Volatile.Read(ref ns.Opens) > 0) return;
            var rec = FindRecord(ino, null, out _);
            if (rec != null && rec.Nlink == 0 && !rec.IsDirectory) DropInode(ino, rec);
            if ((!ns.Held || ns.Origin == null) && ino != InodeNumbers.Root) _nodes.TryRemove(ino, out _);
        }
    }

    /// <summary>fsync(2): everything changed so far is durable when this returns.</summary>
    private void Fsync(ulong ino = 0) => Flush(durable: true);

    /// <summary>Reads at offset into destination; returns the number of bytes read (0 at or past the end).</summary>
    private int Read(ulong ino, long offset, Span<byte> destination)
    {
        var rec = FindRecord(ino, null, out int depth) ?? throw new AgentFsException(Errno.ESTALE, $"inode {ino} no longer exists in branch {Branch}");
        if (rec.IsDirectory) throw new AgentFsException(Errno.EISDIR, $"inode {ino} is a directory");
        if (offset < 0) throw new AgentFsException(Errno.EINVAL, "negative offset");
        if (offset >= rec.Size) return 0;
        if (depth != -1 && !_chunksChecked.ContainsKey(ino)) CheckChunkRange(ino);
        int n = (int)Math.Min(destination.Length, rec.Size - offset);
        destination = destination[..n];
        if (depth == -1)
        {
            // An untouched base file: one pread for the whole range.
            ReadBase(rec, offset, destination);
            return n;
        }
        int cs = _chunkSize;
        byte[]? tmp = null;
        try
        {
            int done = 0;
            while (done < n)
            {
                long pos = offset + done;
                long idx = pos >> _chunkShift;
                int within = (int)(pos & (cs - 1));
                int take = Math.Min(cs - within, n - done);
                if (within == 0 && take == cs)
                {
                    var dst = destination.Slice(done, cs);
                    int valid = ReadChunk(ino, rec, depth, idx, dst);
                    dst[valid..].Clear();
                }
                else
                {
                    tmp ??= ArrayPool<byte>.Shared.Rent(cs);
                    int valid = ReadChunk(ino, rec, depth, idx, tmp.AsSpan(0, cs));
                    var dst = destination.Slice(done, take);
                    int copy = Math.Clamp(valid - within, 0, take);
                    tmp.AsSpan(within, copy).CopyTo(dst);
                    dst[copy..].Clear();
                }
                done += take;
            }
        }
        finally
        {
            if (tmp != null) ArrayPool<byte>.Shared.Return(tmp);
        }
        return n;
    }

    /// <summary>Files whose chunk rows were found within their sizes (<see cref="CheckChunkRange"/>); bounded.</summary>
    private readonly ConcurrentDictionary<ulong, byte> _chunksChecked = new();

    /// <summary>Refuses a file with a chunk row agentfs never writes (see <see cref="LayerReader.CheckChunkRange"/>); once per file and view.</summary>
    private void CheckChunkRange(ulong ino)
    {
        _layers.CheckChunkRange(_chain, ino, _chunkSize);
        if (_chunksChecked.Count >= 1 << 16) _chunksChecked.Clear();
        _chunksChecked.TryAdd(ino, 0);
    }

    /// <summary>
    /// The bytes of chunk idx as this branch sees them, into dest (chunk-sized); returns how many leading
    /// bytes are set (the rest of the chunk is zeros). Walks top-down: memtables, then the chain's layers
    /// (a layer's hide_from hides lower data at or past it), then the base.
    /// </summary>
    private int ReadChunk(ulong ino, InodeRecord rec, int recDepth, long idx, Span<byte> dest)
    {
        var key = new ChunkKey(ino, idx);
        bool topHasNoRow = false;
        if (_current.Chunks.TryGetValue(key, out var cb) || (_flushing is { } fl && fl.Chunks.TryGetValue(key, out cb)))
        {
            if (cb != null)
            {
                int len = cb.Length;
                cb.Data.AsSpan(0, len).CopyTo(dest);
                return len;
            }
            topHasNoRow = true;
        }
        long start = idx << _chunkShift;
        long topHide = recDepth == 0 ? rec.HideFrom : long.MaxValue;
        int bestDepth = int.MaxValue, bestLen = 0;
        if (recDepth != -1)
            bestLen = _layers.NearestChunk(_chain, ino, idx, minDepth: topHasNoRow ? 1 : 0, _chunkSize, dest, out bestDepth);
        // What the layers above a depth hide: the top record's hide_from, then each sealed version's.
        long hidden = bestDepth == 0 ? long.MaxValue : Math.Min(topHide, HiddenAbove(ino, bestDepth));
        if (bestDepth != int.MaxValue)
        {
            if (start >= hidden) return 0;
            return (int)Math.Min(bestLen, hidden - start);
        }
        if (!rec.HasBaseData) return 0;
        long end = Math.Min(Math.Min(hidden, rec.BaseId!.Value.Size), start + _chunkSize);
        if (end <= start) return 0;
        ReadBase(rec, start, dest[..(int)(end - start)]);
        return (int)(end - start);
    }

    /// <summary>min(hide_from) over the sealed versions of ino at depths 1 .. depth-1 (depth int.MaxValue: all).</summary>
    private long HiddenAbove(ulong ino, int depth)
    {
        var chain = _chain;
        if (!_lowerHides.TryGetValue(ino, out var hides))
        {
            hides = _layers.SealedHideFrom(chain, ino);
            _lowerHides[ino] = hides;
        }
        long h = long.MaxValue;
        int stop = Math.Min(depth, hides.Length);
        for (int d = 1; d < stop; d++) h = Math.Min(h, hides[d]);
        return h;
    }

    /// <summary>Reads base bytes of a file, after checking the base file is still the one the store depends on.</summary>
    /// <summary>A read of the base at least this large starts reading ahead of it (see <see cref="ReadBase"/>).</summary>
    private const int SequentialReadSize = 128 * 1024;

    private void ReadBase(InodeRecord rec, long offset, Span<byte> dest)
    {
        int fd = _base.OpenRead(rec.Origin!);
        try
        {
            var st = BaseDirectory.StatFd(fd);
            var id = rec.BaseId!.Value;
            // Times of a git object file change without its bytes (git freshens, a local clone hard-links): Versions/VcsPaths.cs.
            if (st.Ino != id.Ino || st.Dev != id.Dev || st.Size != id.Size
                || ((st.MtimeNs != id.MtimeNs || st.CtimeNs != id.CtimeNs) && !Versions.VcsPaths.IsGitObjectFile(rec.Origin!)))
                throw new AgentFsException(Errno.EIO,
                    $"base file {_base.Describe(rec.Origin!)} changed after store {_store.Path} started to depend on it; restore the base file or start a new store (refusing to mix old and new data)");
            int got = BaseDirectory.Pread(fd, dest, offset);
            dest[got..].Clear();
            // Each read opens the base file anew, so the kernel's readahead never sees a sequential stream
            // and every large read waits for the disk. A large read is the mount's own readahead of a
            // sequential reader: ask for the next stretch now, so the disk works while the data travels.
            if (dest.Length >= SequentialReadSize && got == dest.Length && offset + got < st.Size)
                _ = LibC.posix_fadvise(fd, offset + got, 2L * dest.Length, LibC.POSIX_FADV_WILLNEED);
        }
        finally { BaseDirectory.Close(fd); }
    }

    /// <summary>Writes data at offset (extending the file as needed); returns the count written. With
    /// updateTimes false (the kernel's writeback cache, which owns mtime and sends it by setattr) the
    /// times are left alone.</summary>
    private int Write(ulong ino, long offset, ReadOnlySpan<byte> data, bool updateTimes = true, Caller? caller = null)
    {
        CheckWritable();
        if (offset < 0) throw new AgentFsException(Errno.EINVAL, "negative offset");
        if (offset > MaxFileSize - data.Length) throw new AgentFsException(Errno.EFBIG, $"write past {MaxFileSize} bytes");
        if (data.IsEmpty)
        {
            // write(2) of nothing changes nothing, also past the end; but a directory is still EISDIR.
            var r = GetRecord(ino);
            if (!r.IsRegular) throw new AgentFsException(r.IsDirectory ? Errno.EISDIR : Errno.EINVAL, $"inode {ino} is not a regular file");
            return 0;
        }
        lock (_writeLock)
        {
            var rec = RecordForWrite(ino);
            if (!rec.IsRegular) throw new AgentFsException(rec.IsDirectory ? Errno.EISDIR : Errno.EINVAL, $"inode {ino} is not a regular file");
            int cs = _chunkSize;
            int done = 0;
            while (done < data.Length)
            {
                long pos = offset + done;
                long idx = pos >> _chunkShift;
                int within = (int)(pos & (cs - 1));
                int take = Math.Min(cs - within, data.Length - done);
                bool whole = within == 0 && take == cs;
                var buf = ChunkForWrite(ino, rec, idx, loadOld: !whole);
                if (whole) buf.PrepareForFullOverwrite(cs);
                else buf.EnsureCapacity(within + take, cs);
                data.Slice(done, take).CopyTo(buf.Data.AsSpan(within));
                if (within + take > buf.Length) buf.Length = within + take;
                done += take;
            }
            long end = offset + data.Length;
            if (end > rec.Size) rec.Size = end;
            if (updateTimes) rec.MtimeNs = rec.CtimeNs = AgentStore.NowNs();
            _current.NoteChange(data.Length);
            Log("write", caller, ino, bytes: data.Length);
        }
        AfterWrite();
        return data.Length;
    }

    /// <summary>The kernel's limit for a FUSE file (MAX_LFS_FILESIZE). No smaller: with the writeback cache the kernel
    /// acknowledges a write up to it before the daemon sees it, so a smaller limit here would drop acknowledged data.</summary>
    public const long MaxFileSize = long.MaxValue;

    /// <summary>
    /// fallocate(2). Mode 0 and <see cref="FallocateMode.KeepSize"/> store nothing (a hole already reads as zeros;
    /// the store has no blocks to reserve) except the new size of mode 0; <see cref="FallocateMode.PunchHole"/> |
    /// KeepSize and <see cref="FallocateMode.ZeroRange"/> make the range read as zeros, ZeroRange without KeepSize
    /// also growing the size to offset + length, as ext4 does. Everything else is refused with EOPNOTSUPP before
    /// anything changes: collapse and insert would rewrite every chunk past offset in the top layer (cost in
    /// proportion to the file, not the change), unshare has nothing to unshare, and the Linux FUSE module forwards
    /// none of them anyway (through 6.18 it sends only KEEP_SIZE, PUNCH_HOLE and ZERO_RANGE).
    /// Argument errors follow vfs_fallocate: EINVAL, EOPNOTSUPP, ESPIPE / EISDIR / ENODEV, EFBIG, in that order.
    /// </summary>
    private void Fallocate(ulong ino, long offset, long length, FallocateMode mode = FallocateMode.Allocate, Caller? caller = null)
    {
        const int ESPIPE = 29;
        CheckWritable();
        if (offset < 0 || length <= 0) throw new AgentFsException(Errno.EINVAL, "fallocate needs offset >= 0 and length > 0");
        bool keepSize = (mode & FallocateMode.KeepSize) != 0;
        var kind = mode & ~FallocateMode.KeepSize;
        bool zero = kind == FallocateMode.ZeroRange || kind == FallocateMode.PunchHole;
        if (!(kind == FallocateMode.Allocate || kind == FallocateMode.ZeroRange || (kind == FallocateMode.PunchHole && keepSize)))
            throw new AgentFsException(Errno.EOPNOTSUPP, $"fallocate mode 0x{(int)mode:x} is not supported (supported: 0, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE, ZERO_RANGE with or without KEEP_SIZE)");
        lock (_writeLock)
        {
            var current = GetRecord(ino);
            if (!current.IsRegular)
                throw new AgentFsException(current.IsDirectory ? Errno.EISDIR : (current.Mode & PosixMode.S_IFMT) == PosixMode.S_IFIFO ? ESPIPE : Errno.ENODEV,
                    $"inode {ino} is not a regular file");
            if (length > MaxFileSize - offset) throw new AgentFsException(Errno.EFBIG, $"fallocate past {MaxFileSize} bytes");
            long end = offset + length;
            bool grows = !keepSize && end > current.Size;
            // Allocation inside the size changes nothing we store: no copy-up, no new times.
            if (!zero && !grows) return;
            var rec = RecordForWrite(ino);
            if (zero) ZeroChunks(ino, rec, offset, Math.Min(end, rec.Size));
            if (grows) Truncate(ino, rec, end);
            rec.MtimeNs = rec.CtimeNs = AgentStore.NowNs();
            _current.NoteChange(64);
            Log("fallocate", caller, ino, bytes: length);
        }
        AfterWrite();
    }

    /// <summary>Makes [offset, end) read as zeros (end at most the size; nothing when end &lt;= offset). Whole chunks
    /// become empty chunk rows (which hide lower data), so no zeros are stored. Under _writeLock.</summary>
    private void ZeroChunks(ulong ino, InodeRecord rec, long offset, long end)
    {
        int cs = _chunkSize;
        for (long pos = offset; pos < end;)
        {
            long idx = pos >> _chunkShift;
            int within = (int)(pos & (cs - 1));
            int take = (int)Math.Min(cs - within, end - pos);
            bool whole = within == 0 && take == cs;
            var buf = ChunkForWrite(ino, rec, idx, loadOld: !whole);
            if (whole)
            {
                buf.Data.AsSpan(0, buf.Length).Clear();
                buf.Length = 0;
            }
            else if (within < buf.Length)
            {
                int n = Math.Min(take, buf.Length - within);
                buf.Data.AsSpan(within, n).Clear();
                if (within + n == buf.Length) buf.Length = within; // keep "past Length is zeros"
            }
            pos += take;
        }
    }

    /// <summary>lseek SEEK_DATA / SEEK_HOLE: the next data (or hole) offset at or after offset, or -1 past the end.
    /// The whole file counts as data (a valid answer: holes are optional), the end is the one hole.</summary>
    private long SeekDataOrHole(ulong ino, long offset, bool data)
    {
        var rec = GetRecord(ino);
        if (offset < 0 || offset >= rec.Size) return -1;
        return data ? offset : rec.Size;
    }


    /// <summary>The current memtable's buffer for a chunk, loading what the branch shows there if asked. Under _writeLock.</summary>
    private ChunkBuffer ChunkForWrite(ulong ino, InodeRecord rec, long idx, bool loadOld)
    {
        var key = new ChunkKey(ino, idx);
        if (_current.Chunks.TryGetValue(key, out var cb) && cb != null) return cb;
        cb = new ChunkBuffer(0);
        long start = idx << _chunkShift;
        if (loadOld && start < rec.Size)
        {
            byte[] tmp = ArrayPool<byte>.Shared.Rent(_chunkSize);
            try
            {
                // The top record is in the memtable now, so the walk treats it as depth 0.
                int valid = ReadChunk(ino, rec, 0, idx, tmp.AsSpan(0, _chunkSize));
                valid = (int)Math.Min(valid, rec.Size - start);
                if (valid > 0)
                {
                    cb.EnsureCapacity(valid, _chunkSize);
                    tmp.AsSpan(0, valid).CopyTo(cb.Data);
                    cb.Length = valid;
                }
            }
            finally { ArrayPool<byte>.Shared.Return(tmp); }
        }
        _current.SetChunk(key, cb);
        return cb;
    }

    /// <summary>Changes a file's size (under _writeLock): shrinking hides everything past the new end in all
    /// lower layers and the base, so a later extension reads zeros.</summary>
    private void Truncate(ulong ino, InodeRecord rec, long newSize)
    {
        if (newSize > MaxFileSize) throw new AgentFsException(Errno.EFBIG, $"size {newSize} is too large");
        long old = rec.Size;
        if (newSize < old)
        {
            int cs = _chunkSize;
            long firstDropped = (newSize >> _chunkShift) + ((newSize & (cs - 1)) != 0 ? 1 : 0);
            // Remove the top layer's chunks past the end: in the memtables and in SQLite.
            var drop = new HashSet<long>();
            if (_current.ChunksByIno.TryGetValue(ino, out var cur)) foreach (long i in cur) if (i >= firstDropped) drop.Add(i);
            if (_flushing is { } fl && fl.ChunksByIno.TryGetValue(ino, out var fli)) foreach (long i in fli) if (i >= firstDropped) drop.Add(i);
            _layers.AddChunkIndexesFrom(_chain, ino, _chain.Top, firstDropped, drop);
            foreach (long i in drop) _current.SetChunk(new ChunkKey(ino, i), null);
            int tail = (int)(newSize & (cs - 1));
            if (tail != 0)
            {
                var buf = ChunkForWrite(ino, rec, newSize >> _chunkShift, loadOld: true);
                if (buf.Length > tail)
                {
                    buf.Data.AsSpan(tail, buf.Length - tail).Clear();
                    buf.Length = tail;
                }
            }
        }
        rec.HideFrom = Math.Min(rec.HideFrom, Math.Min(old, newSize));
        rec.Size = newSize;
    }
}
