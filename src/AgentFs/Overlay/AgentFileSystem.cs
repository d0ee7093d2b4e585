using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using AgentFs.Native;
using AgentFs.Overlay;
using AgentFs.Store;

namespace AgentFs;

/// <summary>
/// One branch of a store seen as a file system: the inode-level operations the FUSE driver calls one to
/// one (Lookup, GetAttr, Mkdir, Write, ...) and a path-level API for orchestrators (ReadAllBytes, ...).
///
/// How state is found (top-down, the nearest that knows wins): the current memtable, the memtable being
/// committed, the SQLite rows of the chain's layers (top, then sealed layers), then the base directory.
///
/// Threading: readers take no lock; they read the concurrent memtables and use pooled SQLite
/// connections. Mutations hold <c>_writeLock</c> for microseconds and change only the current memtable,
/// which a committer thread moves to SQLite in one transaction every <see cref="StoreOptions.CommitInterval"/>
/// or sooner (group commit). Fsync commits durably before it returns. Lock order: _flushLock, then _writeLock.
/// </summary>
public sealed partial class AgentFileSystem : IDisposable
{
    private readonly AgentStore _store;
    private readonly BaseDirectory _base;
    private readonly int _chunkSize, _chunkShift;
    private readonly object _writeLock = new();
    private readonly object _flushLock = new();
    private readonly ConcurrentDictionary<ulong, NodeState> _nodes = new();
    private readonly ConcurrentDictionary<ulong, long[]> _lowerHides = new();
    private readonly LayerReader _layers;
    /// <summary>Records read from SQLite, for a writable view (null for a read-only one); its rules are its own.</summary>
    private readonly RecordCache? _recordCache;
    /// <summary>
    /// Directories created by this view, with all their entries: a lookup in them never needs SQLite.
    /// Kept by SetDentry under _writeLock; dropped when the chain changes.
    /// </summary>
    private readonly ConcurrentDictionary<ulong, ConcurrentDictionary<byte[], DentryValue>> _freshDirs = new();
    private readonly Thread? _committer;
    private readonly SemaphoreSlim _commitSignal = new(0);
    private volatile LayerChain _chain;
    private volatile MemTable _current;
    private volatile MemTable? _flushing;
    private volatile bool _disposed;
    /// <summary>Why the last commit failed (the store's error: ENOSPC for a full disk, EIO otherwise); null once a
    /// commit succeeds again. While set, every mutation fails with it (see <see cref="CheckWritable"/>).</summary>
    private volatile AgentFsException? _commitError;
    private MemTableWriter? _tableWriter;

    /// <summary>What the view remembers of an inode a caller holds: where a base object lives (so it can be found by
    /// number alone), whether a lookup handed it out and no <see cref="Forget"/> took it back, and its opens.</summary>
    private sealed class NodeState
    {
        public byte[]? Origin;
        public volatile bool Held;
        public int Opens;
    }

    internal AgentFileSystem(AgentStore store, string branch, LayerChain chain, bool readOnly)
    {
        _store = store;
        _base = store.Base;
        Branch = branch;
        IsReadOnly = readOnly;
        _chunkSize = store.ChunkSize;
        _chunkShift = System.Numerics.BitOperations.Log2((uint)_chunkSize);
        _chain = chain;
        _layers = new LayerReader(store);
        _recordCache = readOnly ? null : new RecordCache();
        _current = new MemTable(chain.Top);
        Inodes = new InodeOperations(this);
        _nodes[InodeNumbers.Root] = new NodeState { Origin = [], Held = true };
        if (!readOnly)
        {
            _committer = new Thread(CommitLoop) { IsBackground = true, Name = $"agentfs-commit-{branch}" };
            _committer.Start();
            if (store.Options.ControlSocket)
            {
                try { _control = new Control.ControlServer(this, Control.ControlPaths.SocketFor(store.StoreId, branch)); }
                catch (Exception) { /* no usable runtime directory (ControlPaths says why): other processes cannot control this view */ }
            }
        }
    }

    private readonly Control.ControlServer? _control;

    /// <summary>
    /// Raised when commits start failing (with the error) and when a commit succeeds again after that (null),
    /// on the thread that committed, under the commit lock: handlers only log. A mount writes it where its user
    /// sees it; the changes themselves are kept and retried (see <see cref="CommitLoop"/>).
    /// </summary>
    public event Action<AgentFsException?>? CommitStatusChanged;

    /// <summary>The error of the last failed commit while commits fail; null while they succeed.</summary>
    public AgentFsException? CommitError => _commitError;

    /// <summary>Raised before the branch's state is replaced (rollback), outside all locks: a mount lets the
    /// kernel write back its dirty pages here, so they land in the state being left.</summary>
    public event Action? BeforeStateReplaced;

    /// <summary>Raised after the branch shows another state (rollback), outside all locks: a mount drops the
    /// kernel's cached names, attributes and pages here.</summary>
    public event Action? StateReplaced;

    public AgentStore Store => _store;
    public string Branch { get; }
    public bool IsReadOnly { get; }
    public int ChunkSize => _chunkSize;
    internal LayerChain Chain => _chain;

    // ---- resolution -------------------------------------------------------------------------------

    /// <summary>
    /// The nearest record of an inode. depth is 0 for the top layer (memtable or SQLite), the chain depth
    /// for a sealed layer, and -1 for an untouched base object (synthesized from lstat of baseOrigin).
    /// Null when the inode does not exist in this branch.
    /// </summary>
    internal InodeRecord? FindRecord(ulong ino, byte[]? baseOrigin, out int depth) =>
        FindRecord(ino, baseOrigin, default, haveBaseStat: false, out depth);

    /// <summary>As <see cref="FindRecord(ulong, byte[], out int)"/>, for a base object the caller has just
    /// statted (a lookup that found the name in the base): an untouched one is made from that stat.</summary>
    private InodeRecord? FindRecord(ulong ino, byte[]? baseOrigin, in BaseStat baseStat, bool haveBaseStat, out int depth)
    {
        depth = 0;
        if (_current.Inodes.TryGetValue(ino, out var rec)) return rec;
        var fl = _flushing;
        if (fl != null && fl.Inodes.TryGetValue(ino, out rec)) return rec;
        var cache = _recordCache;
        if (cache != null && cache.TryGet(ino, out var cached, out depth))
            return ReferenceEquals(cached, RecordCache.NoStoreRecord) ? FromBase(ino, baseOrigin, baseStat, haveBaseStat, out depth) : cached;
        long epoch = cache?.Epoch ?? 0;
        rec = _layers.NearestInode(_chain, ino, out depth);
        if (rec != null)
        {
            cache?.AddFromQuery(ino, rec, depth, epoch);
            return rec;
        }
        var fromBase = FromBase(ino, baseOrigin, baseStat, haveBaseStat, out depth);
        if (fromBase != null) cache?.AddFromQuery(ino, RecordCache.NoStoreRecord, -1, epoch);
        return fromBase;
    }

    private InodeRecord? FromBase(ulong ino, byte[]? baseOrigin, in BaseStat baseStat, bool haveBaseStat, out int depth)
    {
        depth = -1;
        if (haveBaseStat && baseOrigin != null) return SynthesizeFromBase(ino, baseOrigin, baseStat);
        baseOrigin ??= _nodes.TryGetValue(ino, out var ns) ? ns.Origin : null;
        if (baseOrigin == null || !_base.TryStat(baseOrigin, out var st)) return null;
        return SynthesizeFromBase(ino, baseOrigin, st);
    }

    private InodeRecord? SynthesizeFromBase(ulong ino, byte[] origin, in BaseStat st)
    {
        if (_base.MapIno(st) != ino) return null; // the base changed underneath: the name is another object now
        var rec = new InodeRecord
        {
            Ino = ino, Mode = st.Mode, Uid = st.Uid, Gid = st.Gid, Nlink = st.Nlink, Rdev = st.Rdev, Size = st.Size,
            AtimeNs = st.AtimeNs, MtimeNs = st.MtimeNs, CtimeNs = st.CtimeNs, Origin = origin, XattrsFromBase = true,
        };
        if (PosixMode.IsRegular(st.Mode)) rec.BaseId = new BaseIdentity(st.Dev, st.Ino, st.Size, st.MtimeNs, st.CtimeNs);
        if (PosixMode.IsDirectory(st.Mode)) rec.Size = 4096;
        return rec;
    }

    internal InodeRecord GetRecord(ulong ino, byte[]? baseOrigin = null) =>
        TryGetRecord(ino, baseOrigin) ?? throw new AgentFsException(Errno.ESTALE, $"inode {ino} no longer exists in branch {Branch}");

    /// <summary>The record of an inode that still exists (linked, open, or a directory); null if it is gone.</summary>
    internal InodeRecord? TryGetRecord(ulong ino, byte[]? baseOrigin = null) =>
        FindRecord(ino, baseOrigin, out _) is { } r && (r.Nlink > 0 || IsOpen(ino) || r.IsDirectory) ? r : null;

    private bool IsOpen(ulong ino) => _nodes.TryGetValue(ino, out var ns) && Volatile.Read(ref ns.Opens) > 0;

    /// <summary>Looks a name up in a directory without registering the result. Found: the inode, its d_type, and
    /// its base path when it came from the base (null otherwise).</summary>
    internal bool TryResolveEntry(ulong parentIno, InodeRecord parent, byte[] name, out ulong ino, out byte type, out byte[]? baseOrigin) =>
        TryResolveEntry(parentIno, parent, name, out ino, out type, out baseOrigin, out _);

    /// <summary>As above; a name found in the base also gives the stat that found it (valid when baseOrigin is set),
    /// so the lookup makes the record from it instead of asking the base a second time.</summary>
    private bool TryResolveEntry(ulong parentIno, InodeRecord parent, byte[] name, out ulong ino, out byte type, out byte[]? baseOrigin, out BaseStat baseStat)
    {
        baseOrigin = null;
        baseStat = default;
        if (_freshDirs.TryGetValue(parentIno, out var fresh))
        {
            bool found = fresh.TryGetValue(name, out var fv);
            ino = found ? fv.Ino : 0;
            type = fv.Type;
            return found;
        }
        var key = new DentryKey(parentIno, name);
        if (_current.TryGetDentry(key, out var v) || (_flushing is { } fl && fl.TryGetDentry(key, out v)))
        {
            ino = v.IsRemoved ? 0 : v.Ino;
            type = v.Type;
            return ino != 0;
        }
        if (_layers.NearestDentry(_chain, parentIno, name, minDepth: 0, out ino, out type)) return ino != 0;

        if (parent.Origin == null || !parent.IsDirectory) return false;
        byte[] path = JoinBase(parent.Origin, name);
        if (!_base.TryStat(path, out baseStat)) return false;
        ino = _base.MapIno(baseStat);
        type = PosixMode.DirentType(baseStat.Mode);
        baseOrigin = path;
        return true;
    }

    /// <summary>Whether a name is visible below the top layer (so that deleting it needs a whiteout).</summary>
    private bool NameExistsBelowTop(ulong parentIno, InodeRecord parent, byte[] name)
    {
        if (_layers.NearestDentry(_chain, parentIno, name, minDepth: 1, out ulong ino, out _)) return ino != 0;
        return parent.Origin != null && _base.TryStat(JoinBase(parent.Origin, name), out _);
    }

    /// <summary>Whether an inode has a record in a sealed layer or in the base (so deleting it needs a tombstone).</summary>
    private bool InodeExistsBelowTop(ulong ino) => !InodeNumbers.IsOverlay(ino) || _layers.HasSealedInode(_chain, ino);

    internal static byte[] JoinBase(byte[] dir, ReadOnlySpan<byte> name)
    {
        if (dir.Length == 0) return name.ToArray();
        var p = new byte[dir.Length + 1 + name.Length];
        dir.CopyTo(p, 0);
        p[dir.Length] = (byte)'/';
        name.CopyTo(p.AsSpan(dir.Length + 1));
        return p;
    }

    // ---- writing the current memtable -------------------------------------------------------------

    private void CheckWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsReadOnly) throw new AgentFsException(Errno.EROFS, $"branch {Branch} of store {_store.Path} is open read-only");
        // A change accepted now could not be saved either, and the caller would believe it was: refuse it until
        // the pending changes commit (the committer retries them; so does Flush).
        if (_commitError is { } failed) throw CommitFailedError(failed);
    }

    /// <summary>What a writer gets while commits fail: ENOSPC when the store's disk is full, EIO for any other cause.</summary>
    private AgentFsException CommitFailedError(AgentFsException cause) =>
        new(cause.Errno == Errno.ENOSPC ? Errno.ENOSPC : Errno.EIO,
            $"changes to branch {Branch} cannot be saved to store {_store.Path}: {CauseText(cause)}; " +
            "the changes made so far are kept and committed as soon as the store can be written again", cause);

    /// <summary>The store's error without its leading "store PATH: " (the messages built here name the store themselves).</summary>
    private string CauseText(AgentFsException cause)
    {
        string prefix = $"store {_store.Path}: ";
        return cause.Message.StartsWith(prefix, StringComparison.Ordinal) ? cause.Message[prefix.Length..] : cause.Message;
    }

    /// <summary>The changes not yet in SQLite: distinct inodes touched, and bytes of file data.</summary>
    public (int Inodes, long DataBytes) PendingChanges()
    {
        var inodes = new HashSet<ulong>();
        long bytes = 0;
        foreach (var table in new[] { _flushing, _current })
        {
            if (table == null) continue;
            foreach (var ino in table.Inodes.Keys) inodes.Add(ino);
            foreach (var (key, chunk) in table.Chunks)
            {
                inodes.Add(key.Ino);
                if (chunk != null) bytes += chunk.Length;
            }
        }
        return (inodes.Count, bytes);
    }

    /// <summary>The top-layer record of an inode, copied up into the current memtable if needed. Under _writeLock.</summary>
    private InodeRecord RecordForWrite(ulong ino, byte[]? baseOrigin = null)
    {
        if (_current.Inodes.TryGetValue(ino, out var rec) && rec != null) return rec;
        var found = FindRecord(ino, baseOrigin, out int depth)
            ?? throw new AgentFsException(Errno.ESTALE, $"inode {ino} no longer exists in branch {Branch}");
        rec = found.Clone();
        if (depth != 0) rec.HideFrom = long.MaxValue; // hiding of lower data is kept by the lower versions
        if (depth == -1 && rec.IsSymlink && rec.Target == null && rec.Origin != null) rec.Target = _base.ReadLink(rec.Origin);
        _current.Inodes[ino] = rec;
        _current.RecordCount++;
        _current.NoteChange(128);
        return rec;
    }

    private void PutNewRecord(InodeRecord rec)
    {
        _current.Inodes[rec.Ino] = rec;
        _current.RecordCount++;
        _current.NoteChange(128);
    }

    private void SetDentry(ulong parent, byte[] name, DentryValue value)
    {
        _current.SetDentry(new DentryKey(parent, name), value);
        _current.NoteChange(64);
        if (_freshDirs.TryGetValue(parent, out var fresh))
        {
            if (value.IsRemoved || value.IsWhiteout) fresh.TryRemove(name, out _);
            else fresh[name] = value;
        }
    }

    /// <summary>Who a mutation is recorded for when its caller is not given: this process.</summary>
    private static Caller ThisProcess => new(Environment.ProcessId, LibC.geteuid(), LibC.getegid());

    private void Log(string op, Caller? by, ulong ino, ulong parent = 0, byte[]? name = null, long bytes = 0,
        ulong toParent = 0, byte[]? toName = null, ulong exchanged = 0)
    {
        if (!OperationLogEnabled) return;
        var caller = by ?? ThisProcess;
        var ops = _current.Ops;
        if (op == "write" && ops.Count > 0 && ops[^1] is { Op: "write" } last && last.Ino == ino && last.Caller == caller)
        {
            ops[^1] = last with { Bytes = last.Bytes + bytes };
            return;
        }
        var (path, to) = OperationPaths(op, ino, parent, name, toParent, toName, exchanged);
        ops.Add(new OpLogEntry(AgentStore.NowNs(), op, ino, parent, name, bytes, caller, path, to, ProcessNames.Get(caller.Pid)));
    }

    /// <summary>Removes an inode whose last link is gone and that no one holds open. Under _writeLock.</summary>
    private void DropInode(ulong ino, InodeRecord rec)
    {
        if (_current.ChunksByIno.TryGetValue(ino, out var idxs))
        {
            foreach (long i in idxs) _current.Chunks.TryRemove(new ChunkKey(ino, i), out _);
            _current.ChunksByIno.Remove(ino);
        }
        if (InodeExistsBelowTop(ino))
        {
            var tomb = rec.Clone();
            tomb.Nlink = 0;
            tomb.Size = 0;
            tomb.HideFrom = 0;
            tomb.Xattrs = null;
            tomb.XattrsFromBase = false;
            _current.Inodes[ino] = tomb;
        }
        else
        {
            _current.Inodes[ino] = null;
        }
        _lowerHides.TryRemove(ino, out _);
        _freshDirs.TryRemove(ino, out _);
    }

    // ---- group commit -----------------------------------------------------------------------------

    private void CommitLoop()
    {
        int interval = (int)Math.Max(10, _store.Options.CommitInterval.TotalMilliseconds);
        int failures = 0;
        while (!_disposed)
        {
            _commitSignal.Wait(Math.Max(10, interval / 4));
            if (_disposed) break;
            var cur = _current;
            bool due = cur.DirtyBytes >= _store.Options.MaxDirtyBytes / 4 || cur.RecordCount >= 4096 ||
                       (cur.FirstChangeTicks != 0 && Environment.TickCount64 - cur.FirstChangeTicks >= interval) ||
                       _flushing != null;
            if (!due) continue;
            try
            {
                Flush(durable: false);
                failures = 0;
            }
            catch (Exception)
            {
                // Commit recorded the error and kept the table in _flushing: it is retried first on the next round,
                // less often the longer the store stays unwritable (each try writes the WAL until it fails again).
                failures++;
                if (!_disposed) Thread.Sleep(Math.Min(1000, 100 * failures));
            }
        }
    }

    /// <summary>Called after a mutation: starts a commit when enough is dirty, and holds writers back when far too much is.</summary>
    private void AfterWrite()
    {
        long dirty = _current.DirtyBytes;
        long max = _store.Options.MaxDirtyBytes;
        if (dirty >= max / 4 || _current.RecordCount >= 4096) _commitSignal.Release();
        if (dirty >= 2 * max)
        {
            // Back-pressure: bound memory. This write is in the memtable already and will be committed; if the
            // commit fails, the error is recorded and the next writer call reports it.
            try { Flush(durable: false); }
            catch (AgentFsException) { }
        }
    }

    /// <summary>Commits every change made so far in one SQLite transaction; durable: synced to disk before returning.</summary>
    public void Flush(bool durable = true)
    {
        if (IsReadOnly) return;
        lock (_flushLock)
        {
            if (_flushing is { } stuck) Commit(stuck, durable); // a previous commit failed: retry it first
            MemTable table;
            lock (_writeLock)
            {
                table = _current;
                if (table.IsEmpty && !durable) return;
                _flushing = table;
                _current = new MemTable(table.Layer);
                _recordCache?.CommitStarting();
            }
            Commit(table, durable);
        }
    }

    /// <summary>Writes a memtable taken for flushing to SQLite in one transaction (see <see cref="MemTableWriter"/>).</summary>
    private void Commit(MemTable table, bool durable)
    {
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            _store.Write((c, tx) =>
            {
                _tableWriter ??= new MemTableWriter(c, _store.Options.CommitLog);
                _tableWriter.Write(table, Branch);
                if (table.IsEmpty && durable)
                    StoreDatabase.NonQuery(c, "INSERT OR REPLACE INTO meta(key, value) VALUES('last_sync_ns', $v)", tx, ("$v", AgentStore.NowNs()));
                return 0;
            }, durable);
            if (_commitError != null)
            {
                _commitError = null;
                CommitStatusChanged?.Invoke(null);
            }
            _recordCache?.Committed(table);
            _flushing = null;
            _store.Options.CommitLog?.WriteLine($"agentfs: commit {table.Inodes.Count} inodes {table.Chunks.Count} chunks {table.DirtyBytes >> 10} KiB in {System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds:F1} ms durable={durable}");
        }
        catch (Exception e)
        {
            var error = e as AgentFsException ?? new AgentFsException(Errno.EIO, $"committing changes of branch {Branch} to store {_store.Path} failed: {e.Message}", e);
            bool first = _commitError == null;
            _commitError = error;
            if (first) CommitStatusChanged?.Invoke(error);
            throw CommitFailedError(error);
        }
    }

    // ---- versions ---------------------------------------------------------------------------------

    /// <summary>Seals the branch's current state as a checkpoint (O(1): commits pending changes and opens a new empty top layer).</summary>
    public CheckpointInfo Checkpoint(string? message = null, IReadOnlyDictionary<string, string>? meta = null)
    {
        CheckWritable();
        lock (_flushLock)
        lock (_writeLock)
        {
            Flush(durable: false);
            var (info, newTop) = _store.CheckpointCore(Branch, _chain.Top, message, meta);
            SwitchTop(newTop);
            return info;
        }
    }

    /// <summary>Makes the branch show a checkpoint's state again (O(1): a new empty top layer over it).</summary>
    public void Rollback(long checkpointId)
    {
        CheckWritable();
        _store.GetCheckpoint(checkpointId);
        BeforeStateReplaced?.Invoke();
        lock (_flushLock)
        lock (_writeLock)
        {
            Flush(durable: false); // what was written until now stays in the abandoned layer (and in the oplog)
            long newTop = _store.RollbackCore(Branch, checkpointId);
            SwitchTop(newTop);
        }
        StateReplaced?.Invoke();
    }

    private void SwitchTop(long newTop)
    {
        _chain = _store.LoadChain(newTop);
        _current = new MemTable(newTop);
        _lowerHides.Clear();
        _recordCache?.Clear();
        _freshDirs.Clear();
        _lastNames.Clear(); // names as the replaced state had them
    }

    /// <summary>
    /// Commits everything durably and closes the view. Throws AgentFsException (ENOSPC/EIO) naming what was not
    /// saved when that last commit fails (the view is closed all the same: those changes are lost).
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        try
        {
            if (!IsReadOnly)
            {
                try { Flush(durable: true); }
                catch (AgentFsException e)
                {
                    var (inodes, bytes) = PendingChanges();
                    var cause = e.InnerException as AgentFsException ?? e;
                    throw new AgentFsException(e.Errno,
                        $"{inodes} changed files or directories ({bytes} bytes of data) of branch {Branch} were not saved to store {_store.Path}: {CauseText(cause)}", cause);
                }
            }
        }
        finally
        {
            _disposed = true;
            _control?.Dispose();
            _commitSignal.Release();
            _committer?.Join(5000);
            // Prepared statements keep the store's connection (and its files) open until finalized.
            _store.WithWriterLock(() => { _tableWriter?.Dispose(); _tableWriter = null; });
            _store.Closed(this);
        }
    }
}
