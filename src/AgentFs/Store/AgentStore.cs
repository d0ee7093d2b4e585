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

    private AgentStore(string path, StoreOptions options)
    {
        Path = path;
        Options = options;
        StoreDatabase.CheckIsStore(path);
        try
        {
            _writer = options.ReadOnly ? null : StoreDatabase.OpenConnection(path, readOnly: false);
            var c = _writer ?? StoreDatabase.OpenConnection(path, readOnly: true);
            try
            {
                if (_writer != null)
                {
                    Migrate(_writer);
                    // WAL checkpoints run on a background thread, never inside a commit (they cost O(data)).
                    StoreDatabase.Exec(_writer, "PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=NORMAL;");
                }
                BaseDirectoryPath = (string)(Meta(c, "base") ?? throw Corrupt("has no base directory recorded"));
                ChunkSize = Convert.ToInt32(Meta(c, "chunk_size") ?? throw Corrupt("has no chunk size recorded"));
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
        Base = new BaseDirectory(Control.SandboxHolder.BaseSeenAt(StoreId) ?? BaseDirectoryPath);
        if (_writer != null)
        {
            _checkpointer = new Thread(CheckpointLoop) { IsBackground = true, Name = "agentfs-wal-checkpoint" };
            _checkpointer.Start();
        }
    }

    private readonly Thread? _checkpointer;
    private static readonly long WalCheckpointBytes =
        long.TryParse(Environment.GetEnvironmentVariable("AGENTFS_WAL_CHECKPOINT_MB"), out long mb) ? mb << 20 : 256L << 20;
    private readonly ManualResetEventSlim _stopping = new(false);

    /// <summary>Copies the WAL into the database file in the background once it grows (PASSIVE: never blocks readers or the writer).</summary>
    private void CheckpointLoop()
    {
        SqliteConnection? c = null;
        try
        {
            while (!_stopping.Wait(1000))
            {
                long walSize;
                try { walSize = new FileInfo(Path + "-wal").Length; }
                catch (IOException) { continue; }
                if (walSize < WalCheckpointBytes) continue;
                try
                {
                    c ??= StoreDatabase.OpenConnection(Path, readOnly: false);
                    StoreDatabase.Exec(c, "PRAGMA wal_checkpoint(PASSIVE)");
                }
                catch (Exception) { /* retried on the next round */ }
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
        if (storePath.StartsWith(basePath + "/", StringComparison.Ordinal))
            throw new AgentFsException(Errno.EINVAL, $"store {storePath} must not be inside its base directory {basePath} (the base is never written)");
        int cs = options.ChunkSize;
        if (cs < 4096 || cs > 1 << 20 || (cs & (cs - 1)) != 0)
            throw new AgentFsException(Errno.EINVAL, $"chunk size {cs} is not a power of two between 4096 and 1048576");

        try
        {
            using (var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = storePath, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString()))
            {
                c.Open();
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

    private AgentFsException Corrupt(string what) => new(Errno.EIO, $"store {Path} {what}; it is damaged, restore it from a backup");

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
        try { return new StoreReader(Path); }
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
                if (durable) StoreDatabase.Exec(_writer, "PRAGMA synchronous=NORMAL");
            }
            catch (SqliteException e)
            {
                throw StoreDatabase.Translate(e, Path);
            }
        }
        // Outside the lock: sync_file_range may wait for room in the disk's queue.
        if (!durable && WalWriteback) StartWalWriteback();
        return result;
    }

    private Microsoft.Win32.SafeHandles.SafeFileHandle? _walHandle;

    /// <summary>AGENTFS_WAL_WRITEBACK=0 turns <see cref="StartWalWriteback"/> off, for measurements.</summary>
    private static readonly bool WalWriteback = Environment.GetEnvironmentVariable("AGENTFS_WAL_WRITEBACK") != "0";

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
        foreach (var fs in open) fs.Dispose();
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
    }
}
