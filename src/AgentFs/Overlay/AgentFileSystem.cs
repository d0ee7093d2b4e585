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
    /// <summary>Records read from SQLite (never the memtables' own), with their depth. Bounded; evicted by commits.</summary>
    private readonly ConcurrentDictionary<ulong, (InodeRecord Record, int Depth)> _recordCache = new();
    private long _commitEpoch;
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
    private ApplyCommands? _apply;

    private sealed class NodeState
    {
        public byte[]? Origin;
        public long Lookups;
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
        _current = new MemTable(chain.Top);
        _nodes[InodeNumbers.Root] = new NodeState { Origin = [], Lookups = 1 };
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

    /// <summary>The inodes the kernel (or another user of the inode API) holds references to.</summary>
    public IEnumerable<ulong> KnownInodes() => _nodes.Keys;

    public AgentStore Store => _store;
    public string Branch { get; }
    public bool IsReadOnly { get; }
    public int ChunkSize => _chunkSize;
    internal LayerChain Chain => _chain;

    /// <summary>The caller recorded in the operation log for mutations made on this thread.</summary>
    [ThreadStatic] public static Caller? CurrentCaller;

    // ---- resolution -------------------------------------------------------------------------------

    /// <summary>
    /// The nearest record of an inode. depth is 0 for the top layer (memtable or SQLite), the chain depth
    /// for a sealed layer, and -1 for an untouched base object (synthesized from lstat of baseOrigin).
    /// Null when the inode does not exist in this branch.
    /// </summary>
    internal InodeRecord? FindRecord(ulong ino, byte[]? baseOrigin, out int depth)
    {
        depth = 0;
        if (_current.Inodes.TryGetValue(ino, out var rec)) return rec;
        var fl = _flushing;
        if (fl != null && fl.Inodes.TryGetValue(ino, out rec)) return rec;
        long epoch = Volatile.Read(ref _commitEpoch);
        if (!IsReadOnly && _recordCache.TryGetValue(ino, out var cached))
        {
            if (!ReferenceEquals(cached.Record, NoStoreRecord))
            {
                depth = cached.Depth;
                return cached.Record;
            }
            return FromBase(ino, baseOrigin, out depth);
        }
        var chain = _chain;
        var r = _store.RentReader();
        try
        {
            var st = r.InodeVersions.Bind(1, (long)ino);
            int best = int.MaxValue;
            while (st.Step())
            {
                int d = chain.DepthOf(st.Int64(0));
                if (d < 0 || d >= best) continue;
                best = d;
                rec = StoreReader.ReadInode(st, ino, 1, st.Int64(0), _store.Path);
            }
            if (rec != null)
            {
                depth = best;
                // Cache what SQLite said; a commit that changes ino evicts it and bumps the epoch, so an entry
                // inserted from a query that raced with such a commit is taken back here.
                // (Only a writable view: it is the one whose commits change what SQLite says.)
                if (!IsReadOnly)
                {
                    var entry = (rec, best);
                    _recordCache[ino] = entry;
                    if (Volatile.Read(ref _commitEpoch) != epoch) _recordCache.TryRemove(new KeyValuePair<ulong, (InodeRecord, int)>(ino, entry));
                }
                return rec;
            }
        }
        catch (SqliteException e) { throw StoreDatabase.Translate(e, _store.Path); }
        finally { _store.ReturnReader(r); }

        var fromBase = FromBase(ino, baseOrigin, out depth);
        // No layer has a record: remember that, under the same eviction as records (a commit that gives ino a
        // record evicts it), so getattr, open and read of an untouched base file skip the query. The base
        // object itself is still asked each time (untouched files show the base as it is now).
        if (fromBase != null && !IsReadOnly)
        {
            var entry = (NoStoreRecord, -1);
            _recordCache[ino] = entry;
            if (Volatile.Read(ref _commitEpoch) != epoch) _recordCache.TryRemove(new KeyValuePair<ulong, (InodeRecord, int)>(ino, entry));
        }
        return fromBase;
    }

    /// <summary>In <see cref="_recordCache"/>: no layer has a record of the inode; it comes from the base.</summary>
    private static readonly InodeRecord NoStoreRecord = new();

    private InodeRecord? FromBase(ulong ino, byte[]? baseOrigin, out int depth)
    {
        depth = -1;
        baseOrigin ??= _nodes.TryGetValue(ino, out var ns) ? ns.Origin : null;
        return baseOrigin == null ? null : SynthesizeFromBase(ino, baseOrigin);
    }

    private InodeRecord? SynthesizeFromBase(ulong ino, byte[] origin)
    {
        if (!_base.TryStat(origin, out var st)) return null;
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
    internal bool TryResolveEntry(ulong parentIno, InodeRecord parent, byte[] name, out ulong ino, out byte type, out byte[]? baseOrigin)
    {
        baseOrigin = null;
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
        var chain = _chain;
        var r = _store.RentReader();
        try
        {
            var st = r.DentryVersions.Bind(1, (long)parentIno).Bind(2, name);
            int best = int.MaxValue;
            ino = 0;
            type = 0;
            while (st.Step())
            {
                int d = chain.DepthOf(st.Int64(0));
                if (d < 0 || d >= best) continue;
                best = d;
                ino = (ulong)st.Int64(1);
                type = (byte)st.Int64(2);
                if (ino == parentIno || ino == InodeNumbers.Root) throw DirectoryInItself(parentIno, name, ino, st.Int64(0));
            }
            if (best != int.MaxValue) return ino != 0;
        }
        catch (SqliteException e) { throw StoreDatabase.Translate(e, _store.Path); }
        finally { _store.ReturnReader(r); }

        if (parent.Origin == null || !parent.IsDirectory) return false;
        byte[] path = JoinBase(parent.Origin, name);
        if (!_base.TryStat(path, out var bst)) return false;
        ino = _base.MapIno(bst);
        type = PosixMode.DirentType(bst.Mode);
        baseOrigin = path;
        return true;
    }

    /// <summary>A dentry row that puts a directory's own inode, or the root, inside it: a walk would never end.</summary>
    private AgentFsException DirectoryInItself(ulong parentIno, ReadOnlySpan<byte> name, ulong ino, long layer) =>
        StoreCorruption.Error(_store.Path, $"directory inode {parentIno} holds '{StoreCorruption.Show(name)}', which is " +
            (ino == parentIno ? "that directory itself" : "the root") + $" (dentry row of layer {layer}); a directory cannot contain itself");

    /// <summary>Whether a name is visible below the top layer (so that deleting it needs a whiteout).</summary>
    private bool NameExistsBelowTop(ulong parentIno, InodeRecord parent, byte[] name)
    {
        var chain = _chain;
        var r = _store.RentReader();
        try
        {
            var st = r.DentryVersions.Bind(1, (long)parentIno).Bind(2, name);
            int best = int.MaxValue;
            ulong ino = 0;
            while (st.Step())
            {
                int d = chain.DepthOf(st.Int64(0));
                if (d < 1 || d >= best) continue;
                best = d;
                ino = (ulong)st.Int64(1);
            }
            if (best != int.MaxValue) return ino != 0;
        }
        catch (SqliteException e) { throw StoreDatabase.Translate(e, _store.Path); }
        finally { _store.ReturnReader(r); }
        return parent.Origin != null && _base.TryStat(JoinBase(parent.Origin, name), out _);
    }

    /// <summary>Whether an inode has a record in a sealed layer or in the base (so deleting it needs a tombstone).</summary>
    private bool InodeExistsBelowTop(ulong ino)
    {
        if (!InodeNumbers.IsOverlay(ino)) return true;
        var chain = _chain;
        var r = _store.RentReader();
        try
        {
            var st = r.InodeVersions.Bind(1, (long)ino);
            bool below = false;
            while (st.Step())
                if (chain.DepthOf(st.Int64(0)) >= 1) below = true;
            return below;
        }
        catch (SqliteException e) { throw StoreDatabase.Translate(e, _store.Path); }
        finally { _store.ReturnReader(r); }
    }

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

    private void Log(string op, ulong ino, ulong parent = 0, byte[]? name = null, long bytes = 0)
    {
        var caller = CurrentCaller ?? new Caller(Environment.ProcessId, LibC.geteuid(), LibC.getegid());
        var ops = _current.Ops;
        if (op == "write" && ops.Count > 0 && ops[^1] is { Op: "write" } last && last.Ino == ino && last.Caller == caller)
        {
            ops[^1] = last with { Bytes = last.Bytes + bytes };
            return;
        }
        ops.Add(new OpLogEntry(AgentStore.NowNs(), op, ino, parent, name, bytes, caller));
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
                // Apply recorded the error and kept the table in _flushing: it is retried first on the next round,
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
            if (_flushing is { } stuck) Apply(stuck, durable); // a previous commit failed: retry it first
            MemTable table;
            lock (_writeLock)
            {
                table = _current;
                if (table.IsEmpty && !durable) return;
                _flushing = table;
                _current = new MemTable(table.Layer);
                // A reader that queried SQLite before this commit must not leave what it read in the record
                // cache: it checks the epoch after inserting, so move the epoch now as well as after.
                Interlocked.Increment(ref _commitEpoch);
            }
            Apply(table, durable);
        }
    }

    private void Apply(MemTable table, bool durable)
    {
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            _store.Write((c, tx) =>
            {
                _apply ??= new ApplyCommands(c, _store.Options.CommitLog);
                _apply.Run(table, Branch);
                if (table.IsEmpty && durable)
                    StoreDatabase.NonQuery(c, "INSERT OR REPLACE INTO meta(key, value) VALUES('last_sync_ns', $v)", tx, ("$v", AgentStore.NowNs()));
                return 0;
            }, durable);
            if (_commitError != null)
            {
                _commitError = null;
                CommitStatusChanged?.Invoke(null);
            }
            // What was committed is what SQLite now says at the top layer: remember it (a record in a flushed
            // table is never changed again; writers copy it), so a getattr after the commit needs no query.
            foreach (var (ino, rec) in table.Inodes)
            {
                if (rec != null) _recordCache[ino] = (rec, 0);
                else _recordCache.TryRemove(ino, out _);
            }
            Interlocked.Increment(ref _commitEpoch);
            if (_recordCache.Count > 100_000) _recordCache.Clear();
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

    /// <summary>The prepared statements that move a memtable into SQLite (on the store's writer connection).</summary>
    private sealed class ApplyCommands : IDisposable
    {
        private readonly RawStatement _putDentry, _delDentry, _putInode, _delInode, _putChunk, _delChunk, _delChunks, _op;
        private readonly TextWriter? _commitLog;

        public ApplyCommands(SqliteConnection c, TextWriter? commitLog)
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
            _op = new RawStatement(c, "INSERT INTO oplog(time_ns, branch, layer, count, entries) VALUES(?1,?2,?3,?4,?5)");
        }

        public void Dispose()
        {
            foreach (var st in new[] { _putDentry, _delDentry, _putInode, _delInode, _putChunk, _delChunk, _delChunks, _op }) st.Dispose();
        }

        public void Run(MemTable t, string branch)
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
                _op.Bind(1, AgentStore.NowNs()).Bind(2, branch).Bind(3, layer).Bind(4, (long)t.Ops.Count).Bind(5, OperationLogCodec.Encode(t.Ops)).Execute();
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
        _recordCache.Clear();
        Interlocked.Increment(ref _commitEpoch);
        _freshDirs.Clear();
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
            _store.WithWriterLock(() => { _apply?.Dispose(); _apply = null; });
            _store.Closed(this);
        }
    }
}

/// <summary>Process names for the operation log, read once per pid from /proc.</summary>
internal static class ProcessNames
{
    private static readonly ConcurrentDictionary<int, string> Cache = new();

    public static string Get(int pid)
    {
        if (Cache.TryGetValue(pid, out var n)) return n;
        try { n = File.ReadAllText($"/proc/{pid}/comm").Trim(); }
        catch { n = ""; }
        if (Cache.Count > 4096) Cache.Clear();
        Cache[pid] = n;
        return n;
    }
}
