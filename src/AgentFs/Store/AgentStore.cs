using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using AgentFs.Native;
using AgentFs.Store;

namespace AgentFs;

/// <summary>
/// An AgentFs store: one SQLite file holding the layers, branches and checkpoints of copy-on-write
/// overlays over one base directory, which is only ever read. Open a branch with
/// <see cref="OpenFileSystem"/> to read and change files. Thread-safe.
/// </summary>
public sealed partial class AgentStore : IDisposable
{
    private readonly ConcurrentBag<StoreReader> _readers = new();
    private readonly object _writerLock = new();
    private readonly object _inoLock = new();
    private readonly SqliteConnection? _writer;
    private readonly Dictionary<string, AgentFileSystem> _open = new();
    private ulong _nextIno, _inoLimit;
    private bool _disposed;
    /// <summary>Read connections open the file immutable (read-only media or file; see StoreDatabase.OpenForReading).</summary>
    private readonly bool _immutable;

    private AgentStore(string path, StoreOptions options)
    {
        Path = path;
        Options = options;
        StoreDatabase.CheckIsStore(path);
        try
        {
            _writer = options.ReadOnly ? null : OpenWriter(path);
            bool immutable = false;
            var c = _writer ?? StoreDatabase.OpenForReading(path, out immutable);
            _immutable = immutable;
            try
            {
                // Before anything is written (a migration, a lease) or followed (a layer chain).
                StoreVerifier.Verify(c, path);
                if (_writer != null)
                {
                    Migrate(_writer);
                    // WAL checkpoints run on a background thread, never inside a commit (they cost O(data)).
                    // journal_size_limit: when a commit starts the WAL over (after a complete checkpoint), SQLite cuts
                    // the file back to this size; without it the file keeps its largest size for good.
                    StoreDatabase.Exec(_writer, $"PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit={WalSizeLimit};");
                }
                BaseDirectoryPath = Meta(c, "base") as string ?? throw Corrupt("no base directory is recorded in it");
                ChunkSize = Meta(c, "chunk_size") is long cs && cs >= 4096 && cs <= 1 << 20 && (cs & (cs - 1)) == 0 ? (int)cs
                    : throw Corrupt($"its chunk size is {Meta(c, "chunk_size") ?? "missing"}, not a power of two from 4096 to 1048576");
                StoreId = (string)(Meta(c, "store_id") ?? "");
            }
            finally
            {
                if (_writer == null) c.Dispose();
            }
        }
        catch (SqliteException e)
        {
            _writer?.Dispose();
            if (_writer != null && e.SqliteErrorCode is 8 or 14 && NotWritable(path, e) is { } refused) throw refused;
            throw StoreDatabase.Translate(e, path);
        }
        catch
        {
            _writer?.Dispose();
            throw;
        }
        if (!Directory.Exists(BaseDirectoryPath))
        {
            _writer?.Dispose();
            throw new AgentFsException(Errno.ENOENT, $"the base directory {BaseDirectoryPath} of store {path} is missing; restore it or create a new store");
        }
        Base = new BaseDirectory(Control.SandboxHolder.BaseSeenAt(StoreId) ?? BaseDirectoryPath, path);
        if (_writer != null)
        {
            _checkpointer = new Thread(CheckpointLoop) { IsBackground = true, Name = "agentfs-wal-checkpoint" };
            _checkpointer.Start();
        }
    }

    /// <summary>The writer connection; a store that may only be read (read-only media, or a file or directory this user
    /// may not write) is refused with a message that says so (reading commands open it read-only and work).</summary>
    private static SqliteConnection OpenWriter(string path)
    {
        try { return StoreDatabase.OpenConnection(path, readOnly: false); }
        catch (AgentFsException e) when (e.InnerException is SqliteException { SqliteErrorCode: 8 or 14 } && NotWritable(path, e) is { } refused)
        {
            throw refused;
        }
    }

    /// <summary>Why a store cannot be opened for writing, when the reason is that it may only be read; else null.</summary>
    private static AgentFsException? NotWritable(string path, Exception cause)
    {
        string? why = null;
        try { using (new FileStream(path, System.IO.FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete)) { } }
        catch (UnauthorizedAccessException) { why = "you may not write it"; }
        catch (IOException io) when (io.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase)) { why = "it is on a read-only file system"; }
        if (why == null) return null;
        return new AgentFsException(Errno.EROFS, $"store {path} cannot be changed: {why}; commands that only read it (ls, cat, log, diff, export, backup) work", cause);
    }

    private readonly Thread? _checkpointer;
    /// <summary>A WAL this large is copied into the store at once (PASSIVE): <see cref="StoreOptions.WalCheckpointBytes"/>.</summary>
    private long WalCheckpointBytes => Options.WalCheckpointBytes;
    /// <summary>What a started-over WAL is cut back to (journal_size_limit).</summary>
    private const long WalSizeLimit = 16L << 20;
    private readonly ManualResetEventSlim _stopping = new(false);

    /// <summary>
    /// Keeps the WAL small without stalling writers. While commits come, a WAL past <see cref="WalCheckpointBytes"/>
    /// is copied into the store with PASSIVE checkpoints (they wait for nobody); once all of it is copied, the next
    /// commit starts the WAL over and cuts it to <see cref="WalSizeLimit"/> (if readers prevent that and the WAL passes
    /// twice the mark, a TRUNCATE follows the PASSIVE one). When no commit came for a second, a
    /// TRUNCATE checkpoint empties the file; it needs the write lock and a moment without readers in the WAL, and
    /// with a short busy timeout it gives up at once instead of making a writer wait: it is tried again next round.
    /// </summary>
    private void CheckpointLoop()
    {
        SqliteConnection? c = null;
        long lastSize = -1;
        bool truncated = false;
        try
        {
            int unchangedRounds = 0;
            while (!_stopping.Wait(250))
            {
                long walSize;
                try { walSize = new FileInfo(Path + "-wal").Length; }
                catch (IOException) { continue; }
                unchangedRounds = walSize == lastSize ? unchangedRounds + 1 : 0;
                bool idle = unchangedRounds >= 4; // no commit for a second
                lastSize = walSize;
                if (walSize == 0 || (idle && truncated)) continue;
                truncated = false;
                if (!idle && walSize < WalCheckpointBytes) continue;
                try
                {
                    if (c == null)
                    {
                        c = StoreDatabase.OpenConnection(Path, readOnly: false);
                        StoreDatabase.Exec(c, $"PRAGMA busy_timeout=20; PRAGMA journal_size_limit={WalSizeLimit};");
                    }
                    if (idle)
                    {
                        StoreDatabase.Exec(c, "PRAGMA wal_checkpoint(TRUNCATE)");
                        truncated = new FileInfo(Path + "-wal").Length == 0;
                        lastSize = -1;
                        unchangedRounds = 0;
                    }
                    else
                    {
                        StoreDatabase.Exec(c, "PRAGMA wal_checkpoint(PASSIVE)");
                        // Still growing past twice the mark: readers kept the WAL from being started over. Having just
                        // copied nearly everything, a TRUNCATE holds the write lock only for the last few frames.
                        if (walSize >= 2 * WalCheckpointBytes) StoreDatabase.Exec(c, "PRAGMA wal_checkpoint(TRUNCATE)");
                    }
                }
                catch (Exception) { /* busy or a full disk: retried on the next round */ }
            }
        }
        finally { c?.Dispose(); }
    }

    public string Path { get; }
    public string BaseDirectoryPath { get; }
    public int ChunkSize { get; }
    public string StoreId { get; }
    public StoreOptions Options { get; }
    internal BaseDirectory Base { get; }

    /// <summary>Creates a new store file over a base directory (which is never written) with one branch, main.</summary>
    public static AgentStore Create(string storePath, string baseDirectory, StoreOptions? options = null)
    {
        options ??= new StoreOptions();
        storePath = System.IO.Path.GetFullPath(storePath);
        if (File.Exists(storePath) || Directory.Exists(storePath))
            throw new AgentFsException(Errno.EEXIST, $"store {storePath} already exists; choose another path or delete it first");
        string? dir = System.IO.Path.GetDirectoryName(storePath);
        if (dir != null && !Directory.Exists(dir))
            throw new AgentFsException(Errno.ENOENT, $"cannot create store {storePath}: directory {dir} does not exist");
        if (File.Exists(baseDirectory))
            throw new AgentFsException(Errno.ENOTDIR, $"base {baseDirectory} is a file, not a directory; pass the directory the store should overlay");
        if (!Directory.Exists(baseDirectory))
            throw new AgentFsException(Errno.ENOENT, $"base directory {baseDirectory} does not exist; pass an existing directory");
        string basePath = System.IO.Path.GetFullPath(baseDirectory).TrimEnd('/');
        if (basePath.Length == 0) basePath = "/";
        // By real path and identity, not by spelling: through a symlink, '..' or a bind mount the store would land in the base.
        if (AgentFs.Native.PathContainment.IsSameOrBelow(storePath, basePath, out string realStore, out string realBase))
            throw new AgentFsException(Errno.EINVAL, $"store {storePath} must not be inside its base directory {basePath}" +
                (realStore == storePath && realBase == basePath ? "" : $" (really {realStore} in {realBase})") +
                " because the base is never written; put the store outside the base");
        int cs = options.ChunkSize;
        if (cs < 4096 || cs > 1 << 20 || (cs & (cs - 1)) != 0)
            throw new AgentFsException(Errno.EINVAL, $"chunk size {cs} is not a power of two between 4096 and 1048576");

        // Created 0600 before SQLite opens it: the -wal and -shm get the same mode.
        try { StoreDatabase.CreatePrivateFile(storePath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AgentFsException(e is UnauthorizedAccessException ? Errno.EACCES : Errno.EIO,
                $"cannot create store {storePath}: {e.Message.TrimEnd('.')}", e);
        }
        try
        {
            using (var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = storePath, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString()))
            {
                c.Open();
                StoreDatabase.Harden(c);
                StoreDatabase.Exec(c, $"PRAGMA page_size=16384; PRAGMA application_id={StoreSchema.ApplicationId}; PRAGMA journal_mode=WAL;");
                using var tx = c.BeginTransaction();
                for (int v = 0; v < StoreSchema.CurrentVersion; v++) StoreDatabase.Exec(c, StoreSchema.Migrations[v], tx);
                long now = NowNs();
                void SetMeta(string k, object v) => StoreDatabase.NonQuery(c, "INSERT INTO meta(key, value) VALUES($k, $v)", tx, ("$k", k), ("$v", v));
                SetMeta("base", basePath);
                SetMeta("chunk_size", cs);
                SetMeta("store_id", Guid.NewGuid().ToString("N"));
                SetMeta("created_ns", now);
                SetMeta("next_ino", (long)(InodeNumbers.OverlayBit + 2));
                StoreDatabase.NonQuery(c, "INSERT INTO layers(id, parent, created_ns) VALUES(1, NULL, $t)", tx, ("$t", now));
                StoreDatabase.NonQuery(c, "INSERT INTO branches(name, top_layer, created_ns) VALUES('main', 1, $t)", tx, ("$t", now));
                tx.Commit();
                StoreDatabase.Exec(c, $"PRAGMA user_version={StoreSchema.CurrentVersion};");
            }
        }
        catch (SqliteException e)
        {
            TryDelete(storePath);
            throw StoreDatabase.Translate(e, storePath);
        }
        return new AgentStore(storePath, options);
    }

    /// <summary>
    /// Loads SQLite and works out the schema every open is checked against, on a pool thread, so that a process
    /// about to open a store (a command, while it parses its arguments) finds them ready: a first open otherwise
    /// spends some 30 ms there, and a mount some 10 more loading OpenSSL for its control socket's name, on the way
    /// to everything agentfs run and mount do. Harmless when nothing is opened.
    /// </summary>
    public static void PrepareInBackground() => ThreadPool.UnsafeQueueUserWorkItem(static _ =>
    {
        try
        {
            StoreVerifier.PrepareExpectedSchema();
            Control.ControlPaths.SocketName("", "main"); // loads OpenSSL (SHA-256), which a mount needs next
        }
        catch (Exception) { } // the open that follows reports whatever is wrong
    }, null);

    /// <summary>Whether a path is an AgentFs store file (by its header; it is not opened as a database).</summary>
    public static bool IsStoreFile(string path)
    {
        byte[] header = new byte[100];
        try
        {
            using var f = new FileStream(path, System.IO.FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (f.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length) return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        int appId = (header[68] << 24) | (header[69] << 16) | (header[70] << 8) | header[71];
        return header.AsSpan(0, 16).SequenceEqual("SQLite format 3\0"u8) && appId == StoreSchema.ApplicationId;
    }

    /// <summary>Opens an existing store. A store of an older schema is migrated forward; a newer one is refused.</summary>
    public static AgentStore Open(string storePath, StoreOptions? options = null) =>
        new(System.IO.Path.GetFullPath(storePath), options ?? new StoreOptions());

    private void Migrate(SqliteConnection c)
    {
        long version = (long)StoreDatabase.Scalar(c, "PRAGMA user_version")!;
        if (version > StoreSchema.CurrentVersion)
            throw new AgentFsException(Errno.EINVAL, $"store {Path} has schema version {version}, newer than this agentfs understands ({StoreSchema.CurrentVersion}); use a newer agentfs");
        if (version == StoreSchema.CurrentVersion) return;
        using var tx = c.BeginTransaction();
        for (long v = version; v < StoreSchema.CurrentVersion; v++) StoreDatabase.Exec(c, StoreSchema.Migrations[v], tx);
        tx.Commit();
        StoreDatabase.Exec(c, $"PRAGMA user_version={StoreSchema.CurrentVersion};");
    }

    private static object? Meta(SqliteConnection c, string key) =>
        StoreDatabase.Scalar(c, "SELECT value FROM meta WHERE key=$k", null, ("$k", key));

    private AgentFsException Corrupt(string what) => StoreCorruption.Error(Path, what);

    internal static long NowNs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    private static void TryDelete(string p)
    {
        foreach (var f in new[] { p, p + "-wal", p + "-shm" })
            try { File.Delete(f); } catch { }
    }

    // ---- connections -------------------------------------------------------------------------------

    internal StoreReader RentReader()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_readers.TryTake(out var r))
        {
            Interlocked.Decrement(ref _pooledReaders);
            return r;
        }
        try { return new StoreReader(Path, _immutable); }
        catch (SqliteException e) { throw StoreDatabase.Translate(e, Path); }
    }

    /// <summary>Readers in <see cref="_readers"/>, counted here: ConcurrentBag.Count takes every lock of the bag,
    /// too dear on every read.</summary>
    private int _pooledReaders;

    internal void ReturnReader(StoreReader r)
    {
        r.ResetStatements();
        if (_disposed || Interlocked.Increment(ref _pooledReaders) > 16)
        {
            if (!_disposed) Interlocked.Decrement(ref _pooledReaders);
            r.Dispose();
        }
        else _readers.Add(r);
    }

    /// <summary>Runs work on the writer connection in one IMMEDIATE transaction.</summary>
    internal T Write<T>(Func<SqliteConnection, SqliteTransaction, T> work, bool durable = false)
    {
        if (_writer == null)
            throw new AgentFsException(Errno.EROFS, $"store {Path} is opened read-only");
        T result;
        lock (_writerLock)
        {
            try
            {
                if (durable) StoreDatabase.Exec(_writer, "PRAGMA synchronous=FULL");
                using var tx = _writer.BeginTransaction();
                result = work(_writer, tx);
                tx.Commit();
            }
            catch (SqliteException e)
            {
                throw StoreDatabase.Translate(e, Path);
            }
            finally
            {
                // Also after a failed commit (a full disk): the next group commits must not pay a sync each.
                if (durable)
                    try { StoreDatabase.Exec(_writer, "PRAGMA synchronous=NORMAL"); } catch (SqliteException) { }
            }
        }
        // Outside the lock: sync_file_range may wait for room in the disk's queue.
        if (!durable && WalWriteback) StartWalWriteback();
        return result;
    }

    private Microsoft.Win32.SafeHandles.SafeFileHandle? _walHandle;

    /// <summary><see cref="StoreOptions.WalWriteback"/> false turns <see cref="StartWalWriteback"/> off, for measurements.</summary>
    private bool WalWriteback => Options.WalWriteback;

    /// <summary>
    /// After a commit that was not synced: start writing the WAL's new pages to disk now (sync_file_range,
    /// which does not wait), so that the next fsync (a durable flush or a checkpoint) finds little left to
    /// write, and the disk works while the next commit is prepared. With 24 GiB of memory the kernel would
    /// otherwise leave gigabytes dirty until that fsync.
    /// </summary>
    private void StartWalWriteback()
    {
        var handle = _walHandle;
        if (handle == null)
        {
            try { handle = File.OpenHandle(Path + "-wal", FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
            if (Interlocked.CompareExchange(ref _walHandle, handle, null) is { } other)
            {
                handle.Dispose();
                handle = other;
            }
        }
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added); // the store may be closing on another thread
            LibC.sync_file_range((int)handle.DangerousGetHandle(), 0, 0, LibC.SYNC_FILE_RANGE_WRITE);
        }
        catch (ObjectDisposedException) { }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    internal void WithWriterLock(Action work)
    {
        lock (_writerLock) work();
    }

    internal T Read<T>(Func<SqliteConnection, T> work)
    {
        var r = RentReader();
        try { return work(r.Connection); }
        catch (SqliteException e) { throw StoreDatabase.Translate(e, Path); }
        finally { ReturnReader(r); }
    }

    /// <summary>A new inode number for an object created in the overlay; never reused, unique across processes.</summary>
    internal ulong AllocateIno()
    {
        lock (_inoLock)
        {
            if (_nextIno >= _inoLimit)
            {
                // One reservation per million creates: a refill is a transaction on the writer connection, which
                // waits for a running group commit, and it happens inside a create. Unused numbers cost nothing
                // (overlay numbers are 2^62 + a counter).
                const long block = 1 << 20;
                long next = Write((c, tx) =>
                {
                    long n = Convert.ToInt64(StoreDatabase.Scalar(c, "SELECT value FROM meta WHERE key='next_ino'", tx));
                    StoreDatabase.NonQuery(c, "UPDATE meta SET value=$v WHERE key='next_ino'", tx, ("$v", n + block));
                    return n;
                });
                _nextIno = (ulong)next;
                _inoLimit = _nextIno + block;
            }
            return _nextIno++;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        AgentFileSystem[] open;
        lock (_open) open = _open.Values.ToArray();
        // A view whose last commit fails still closes; the store closes too, then the first such error is thrown.
        AgentFsException? notSaved = null;
        foreach (var fs in open)
        {
            try { fs.Dispose(); }
            catch (AgentFsException e) { notSaved ??= e; }
        }
        _disposed = true;
        _stopping.Set();
        _checkpointer?.Join(10000);
        while (_readers.TryTake(out var r)) r.Dispose();
        lock (_writerLock)
        {
            if (_writer != null)
            {
                try { StoreDatabase.Exec(_writer, "PRAGMA wal_checkpoint(TRUNCATE)"); } catch { }
                _walHandle?.Dispose();
                _writer.Dispose();
            }
        }
        Base.Dispose();
        if (notSaved != null) throw notSaved;
    }
}
