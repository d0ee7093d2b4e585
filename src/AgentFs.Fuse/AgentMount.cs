using System.Text.Json;
using AgentFs.Fuse.Protocol;

namespace AgentFs.Fuse;

/// <summary>How a branch is mounted.</summary>
public sealed class AgentMountOptions
{
    public string Branch { get; init; } = "main";
    public bool ReadOnly { get; init; }
    /// <summary>
    /// Kernel writeback cache: buffered writes reach the store later, in large requests. Off by default (write-through):
    /// with it the kernel forgets st_blocks at every close(2) (fs/fuse/file.c, fuse_flush), so the fstat after the next
    /// open of any file, read or written, costs a GETATTR, and create and unlink cost a SETATTR more each; the agent's
    /// loop of opens, reads, stats, creates and deletes sends a quarter fewer requests without it (benchmarks/README.md,
    /// "Request economy"). It pays for many small write(2) calls to one file. The kernel disables passthrough with it.
    /// </summary>
    public bool WritebackCache { get; init; }
    /// <summary>FUSE passthrough for read-only opens of untouched base files (kernel >= 6.9, CAP_SYS_ADMIN).
    /// The kernel does not combine it with the writeback cache, so this turns the writeback cache off.</summary>
    public bool Passthrough { get; init; }
    /// <summary>Zero-message opendir (OPENDIR answered ENOSYS): no OPENDIR and RELEASEDIR per directory read, and the
    /// kernel caches every listing. Default: on; AGENTFS_FUSE_OPENDIR=1 turns it off (for measurements).</summary>
    public bool ZeroMessageOpenDir { get; init; } = Environment.GetEnvironmentVariable("AGENTFS_FUSE_OPENDIR") != "1";
    public int Threads { get; init; } = Math.Max(2, Environment.ProcessorCount);
    public TimeSpan EntryTimeout { get; init; } = TimeSpan.FromHours(1);
    /// <summary>Group commit interval of the store (see <see cref="StoreOptions.CommitInterval"/>).</summary>
    public TimeSpan CommitInterval { get; init; } = new StoreOptions().CommitInterval;
    /// <summary>The store's tuning; <see cref="ReadOnly"/> and <see cref="CommitInterval"/> above override theirs.</summary>
    public StoreOptions Store { get; init; } = new();
    public Action<string>? Log { get; init; }
    /// <summary>Count FUSE requests per opcode and report them when the mount ends: to the log, or appended to
    /// <see cref="StatsFile"/>. Default from AGENTFS_FUSE_STATS: "1" for the log, a path for a file.</summary>
    public bool CollectStats { get; init; } = Environment.GetEnvironmentVariable("AGENTFS_FUSE_STATS") is { Length: > 0 } v && v != "0";
    public string? StatsFile { get; init; } = Environment.GetEnvironmentVariable("AGENTFS_FUSE_STATS") is { Length: > 1 } v ? v : null;
}

/// <summary>A mounted session of a store's branch, as listed by <c>agentfs status</c>.</summary>
public sealed record MountRecord(string Store, string Branch, string MountPoint, int Pid, DateTimeOffset Started, bool ReadOnly);

/// <summary>
/// A branch of a store mounted with FUSE: owns the store, the branch's file system (and so its write
/// lease), the kernel session and the entry in the mount registry. Dispose flushes and unmounts.
/// </summary>
public sealed class AgentMount : IDisposable
{
    private readonly AgentStore _store;
    private readonly AgentFileSystem _fs;
    private readonly FuseSession _session;
    private readonly string _registryFile;
    private readonly AgentMountOptions _options;
    private int _disposed;

    private AgentMount(AgentStore store, AgentFileSystem fs, FuseSession session, string registryFile, MountRecord record, AgentMountOptions options)
    {
        _options = options;
        _store = store;
        _fs = fs;
        _session = session;
        _registryFile = registryFile;
        Record = record;
    }

    public MountRecord Record { get; }
    public AgentFileSystem FileSystem => _fs;
    public AgentStore Store => _store;
    public FuseSession Session => _session;
    public string MountPoint => _session.MountPoint;

    /// <summary>Completes when the kernel connection ends (unmounted from outside, or by <see cref="Unmount"/>).</summary>
    public Task Completion => _session.Completion;

    public static AgentMount Mount(string storePath, string mountPoint, AgentMountOptions? options = null)
    {
        options ??= new AgentMountOptions();
        string mp = Path.GetFullPath(mountPoint).TrimEnd('/');
        if (mp.Length == 0) mp = "/";
        if (File.Exists(mp))
            throw new AgentFsException(Errno.ENOTDIR, $"mountpoint {mp} is a file; pass an empty directory");
        if (!Directory.Exists(mp))
            throw new AgentFsException(Errno.ENOENT, $"mountpoint {mp} does not exist; create it first (mkdir -p {mp})");
        if (IsMountPoint(mp))
            throw new AgentFsException(Errno.EBUSY, $"{mp} is already a mount point; unmount it first (agentfs unmount {mp})");
        if (Directory.EnumerateFileSystemEntries(mp).Any())
            throw new AgentFsException(Errno.ENOTEMPTY, $"mountpoint {mp} is not empty; mount on an empty directory");

        // The control socket and the registry entry go there: refuse a directory another user could take over
        // before anything is opened, rather than mount a branch nobody else can checkpoint.
        string runtimeDirectory = AgentFs.Control.ControlPaths.PrepareRuntimeDirectory();

        var store = AgentStore.Open(storePath, options.Store with { ReadOnly = options.ReadOnly, CommitInterval = options.CommitInterval });
        AgentFileSystem? fs = null;
        try
        {
            RefuseMountInsideBase(store, mp);
            fs = store.OpenFileSystem(options.Branch, options.ReadOnly);
            var adapter = new AgentFuseFileSystem(fs, options.EntryTimeout) { Passthrough = options.Passthrough, Log = options.Log, ZeroMessageOpenDir = options.ZeroMessageOpenDir };
            var fuseOptions = FuseOptions(options);
            FuseSession session;
            try { session = FuseSession.Mount(mp, adapter, fuseOptions); }
            catch (FuseException e)
            {
                throw new AgentFsException(e.Errno == 0 ? Errno.EIO : e.Errno, $"cannot mount {store.Path} at {mp}: {e.Message}");
            }
            adapter.Session = session;
            var record = new MountRecord(store.Path, options.Branch, mp, Environment.ProcessId, DateTimeOffset.UtcNow, options.ReadOnly);
            string file = Register(runtimeDirectory, record);
            if (options.Log is { } log)
                fs.CommitStatusChanged += error => log(error == null
                    ? $"{mp}: the store {store.Path} can be written again; the pending changes are committed"
                    : $"{mp}: committing changes to {store.Path} failed: {error.Message}; writes and fsync on the mount fail with {Errno.Name(error.Errno == Errno.ENOSPC ? Errno.ENOSPC : Errno.EIO)} until a retry succeeds (the changes are kept)");
            return new AgentMount(store, fs, session, file, record, options);
        }
        catch
        {
            fs?.Dispose();
            store.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A mount at or below the base would be read by its own serving process (every lookup of the base reaches the
    /// mount again) and hang. Compared by real path and by the identity of each ancestor, so a symlink, '..' or a bind
    /// mount of the base elsewhere does not hide it.
    /// </summary>
    private static void RefuseMountInsideBase(AgentStore store, string mp)
    {
        string realMp = AgentFs.Native.PathContainment.RealPath(mp) ?? mp;
        string? realBase = AgentFs.Native.PathContainment.RealPath(store.Base.Root);
        if (AgentFs.Native.PathContainment.IsSameOrBelow(realMp, realBase, store.Base.RootDev, store.Base.RootIno))
            throw new AgentFsException(Errno.EINVAL,
                $"mountpoint {mp}{(realMp == mp ? "" : $" (really {realMp})")} is inside the base directory {store.BaseDirectoryPath} of store {store.Path}; " +
                "the mount would read itself and hang: mount it outside the base");
    }

    private static string Register(string runtimeDirectory, MountRecord record)
    {
        try
        {
            string file = Path.Combine(runtimeDirectory, $"{record.Pid}-{(uint)record.MountPoint.GetHashCode():x8}.json");
            File.WriteAllText(file, JsonSerializer.Serialize(record, MountRegistryJson.Default.MountRecord));
            return file;
        }
        catch (Exception) { return ""; }
    }

    /// <summary>The mounted sessions on this machine whose process is alive and whose mount is present.</summary>
    public static IReadOnlyList<MountRecord> List()
    {
        var list = new List<MountRecord>();
        // A directory another user could write would let them list sessions that do not exist: refused (throws).
        if (AgentFs.Control.ControlPaths.ExistingRuntimeDirectory() is not { } registry) return list;
        foreach (string f in Directory.EnumerateFiles(registry, "*.json"))
        {
            MountRecord? r;
            try { r = JsonSerializer.Deserialize(File.ReadAllText(f), MountRegistryJson.Default.MountRecord); }
            catch (Exception) { continue; }
            if (r == null) continue;
            if (Directory.Exists($"/proc/{r.Pid}") && IsMountPoint(r.MountPoint)) list.Add(r);
            else
            {
                try { File.Delete(f); } catch (Exception) { }
            }
        }
        list.Sort((a, b) => string.CompareOrdinal(a.MountPoint, b.MountPoint));
        return list;
    }

    /// <summary>Whether a path is a mount point right now (from /proc/self/mountinfo).</summary>
    public static bool IsMountPoint(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd('/');
        if (full.Length == 0) full = "/";
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            var parts = line.Split(' ');
            if (parts.Length > 4 && Unescape(parts[4]) == full) return true;
        }
        return false;
    }

    private static string Unescape(string s) => s.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");

    /// <summary>The uid that made the FUSE mount at a path (<c>user_id=</c> of its super options in
    /// /proc/self/mountinfo; the topmost mount there), or null when no FUSE mount is there.</summary>
    public static uint? MountOwner(string mountPoint)
    {
        string full = Path.GetFullPath(mountPoint).TrimEnd('/');
        if (full.Length == 0) full = "/";
        uint? owner = null;
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            var parts = line.Split(' ');
            int dash = Array.IndexOf(parts, "-");
            if (parts.Length < 5 || dash < 0 || dash + 3 >= parts.Length || Unescape(parts[4]) != full) continue;
            owner = null;
            if (!parts[dash + 1].StartsWith("fuse", StringComparison.Ordinal)) continue;
            foreach (string option in parts[dash + 3].Split(','))
                if (option.StartsWith("user_id=", StringComparison.Ordinal) && uint.TryParse(option.AsSpan(8), out uint uid)) owner = uid;
        }
        return owner;
    }

    /// <summary>
    /// Why this process may not unmount the FUSE mount at a path, or null when it may: only root and the user
    /// who mounted it can (fusermount3 refuses everyone else, and so does the kernel).
    /// </summary>
    public static string? WhyNotAllowedToUnmount(string mountPoint)
    {
        uint me = AgentFs.Native.LibC.geteuid();
        if (me == 0 || MountOwner(mountPoint) is not uint owner || owner == me) return null;
        static string Who(uint uid) => AgentFs.Control.ControlClient.UserName(uid) is var name && name != $"uid {uid}" ? $"uid {uid} ({name})" : $"uid {uid}";
        return $"{mountPoint} is mounted by {Who(owner)}; only that user" + (owner == 0 ? "" : " or root") +
               $" can unmount it: ask them to run 'agentfs unmount {mountPoint}' (you are {Who(me)})";
    }

    /// <summary>Detaches the FUSE mount at a path (umount2 MNT_DETACH as root, fusermount3 -u -z otherwise); returns an errno.</summary>
    public static int UnmountPath(string mountPoint) =>
        FuseMounter.Unmount(mountPoint, Environment.UserName != "root", new FuseMountOptions());

    /// <summary>
    /// The FUSE settings of a mounted branch, for <c>agentfs mount</c> and for the sandbox of <c>agentfs run</c>
    /// alike: one place, so that a session behaves the same in both (ACLs, caching, set-id handling).
    /// </summary>
    public static FuseMountOptions FuseOptions(AgentMountOptions options)
    {
        var fuseOptions = new FuseMountOptions
        {
            FsName = "agentfs",
            Subtype = "agentfs",
            ReadOnly = options.ReadOnly,
            WritebackCache = options.WritebackCache && !options.ReadOnly && !options.Passthrough,
            Passthrough = options.Passthrough,
            // We drop set-id bits and security.capability ourselves, so the kernel need not ask for
            // security.capability before every write (AgentFuseFileSystem.KillPrivilegesOnOpen).
            HandleKillPrivV2 = true,
            // ACLs work as on a local file system: the kernel checks with them, the library keeps them
            // (AgentFs.Overlay.PosixAcl), and the library applies the umask (none where a default ACL rules).
            PosixAcl = true,
            Threads = options.Threads,
            Log = options.Log,
            CollectStats = options.CollectStats,
        };
        // A tuning switch for measurements (benchmarks/README.md); the default is what was measured best.
        if (int.TryParse(Environment.GetEnvironmentVariable("AGENTFS_FUSE_READAHEAD_KB"), out int readAheadKb) && readAheadKb >= 0)
            fuseOptions.ReadAheadKb = readAheadKb;
        return fuseOptions;
    }

    /// <summary>Unmounts (the kernel detaches; the session ends when no file is open on it any more).</summary>
    public void Unmount() => _session.Unmount();

    /// <summary>Reports the request counts since the mount (or the last reset) to the stats file or the log,
    /// when they are collected (<see cref="AgentMountOptions.CollectStats"/>); then optionally starts again.</summary>
    public void ReportStats(bool reset)
    {
        if (_session.Stats is not { } stats) return;
        string text = $"FUSE requests served by {MountPoint}:\n{stats.Format()}";
        if (reset) stats.Reset();
        if (_options.StatsFile is { } file)
            try { File.AppendAllText(file, text + "\n"); } catch (Exception) { }
        else
            _options.Log?.Invoke(text);
    }

    /// <summary>
    /// Commits everything durably, unmounts, releases the branch and the store. When that last commit fails the
    /// mount is still taken down, and then an AgentFsException names what was not saved (also left for
    /// <c>agentfs unmount</c>, see <see cref="TakeFailure"/>).
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        // Before unmounting: the kernel's dirty pages go out (and the store gets them) while the mount is whole.
        // A failure here is retried below by the view's own last flush, which is the one that counts.
        try { _fs.Flush(durable: true); } catch (Exception) { }
        try { _session.Unmount(); } catch (Exception) { }
        _session.Completion.Wait(TimeSpan.FromSeconds(10));
        _session.Dispose();
        ReportStats(reset: false);
        AgentFsException? notSaved = null;
        try { _fs.Dispose(); }
        catch (AgentFsException e) { notSaved = e; }
        try { _store.Dispose(); }
        catch (AgentFsException e) { notSaved ??= e; }
        if (_registryFile.Length > 0)
            try { File.Delete(_registryFile); } catch (Exception) { }
        if (notSaved != null)
        {
            string message = $"{MountPoint}: {notSaved.Message}";
            _options.Log?.Invoke(message);
            RecordFailure(Record, message);
            throw new AgentFsException(notSaved.Errno, message, notSaved);
        }
    }

    private static string FailureFile(int pid) => Path.Combine(AgentFs.Control.ControlPaths.ChooseRuntimeDirectory(), $"{pid}.failed");

    /// <summary>Leaves the reason a mount ended without saving everything where <c>agentfs unmount</c> (another
    /// process, waiting for this one to exit) finds it.</summary>
    private static void RecordFailure(MountRecord record, string message)
    {
        try
        {
            Directory.CreateDirectory(AgentFs.Control.ControlPaths.ChooseRuntimeDirectory());
            File.WriteAllText(FailureFile(record.Pid), JsonSerializer.Serialize(new MountFailure(record.MountPoint, message), MountRegistryJson.Default.MountFailure));
        }
        catch (Exception) { }
    }

    /// <summary>
    /// After the process serving a mount has exited: the message naming what it could not save when it ended,
    /// or null if it ended cleanly. Removes the record (it is reported once).
    /// </summary>
    public static string? TakeFailure(MountRecord record)
    {
        string file = FailureFile(record.Pid);
        try
        {
            var written = File.GetLastWriteTimeUtc(file);
            var failure = JsonSerializer.Deserialize(File.ReadAllText(file), MountRegistryJson.Default.MountFailure);
            File.Delete(file);
            // A record left by an earlier process that had the same pid is not this mount's.
            return failure != null && failure.MountPoint == record.MountPoint && written >= record.Started.UtcDateTime.AddSeconds(-1)
                ? failure.Message : null;
        }
        catch (Exception) { return null; }
    }

    internal sealed record MountFailure(string MountPoint, string Message);
}
