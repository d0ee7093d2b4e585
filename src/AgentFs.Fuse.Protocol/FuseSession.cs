namespace AgentFs.Fuse.Protocol;

/// <summary>
/// A mounted FUSE filesystem: the kernel connection, the reader threads that serve it, and the way out.
/// <see cref="Mount"/> returns once the kernel's INIT was answered, so the mount is usable at once;
/// <see cref="Dispose"/> unmounts and waits for the readers to stop.
/// </summary>
/// <remarks>
/// Threading: <see cref="FuseMountOptions.Threads"/> readers, each on its own descriptor cloned from the
/// first (FUSE_DEV_IOC_CLONE), each handling its request inline and replying on its own descriptor. The
/// session ends when the kernel tears the connection down: a read returns ENODEV after the last reference
/// to the unmounted filesystem is gone, or after an abort.
/// </remarks>
public sealed partial class FuseSession : IDisposable
{
    /// <summary>The protocol version this implementation speaks: 7.41.</summary>
    public const uint ProtocolMajor = 7, ProtocolMinor = 41;

    private readonly IFuseFileSystem _fs;
    private readonly FuseMountOptions _options;
    private readonly bool _viaFusermount;
    private readonly ManualResetEventSlim _initReplied = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FuseWorker[] _workers = [];
    private int _deviceFd = -1;
    private ulong? _connectionId;
    private volatile FuseConnectionInfo? _connection;
    private volatile int _initError;
    private int _running;
    private int _destroyed;
    private int _disposed;
    private int _deviceUsers;
    private volatile bool _deviceClosing;
    private volatile bool _stopping;

    private FuseSession(string mountPoint, IFuseFileSystem fs, FuseMountOptions options, bool viaFusermount)
    {
        MountPoint = mountPoint;
        _fs = fs;
        _options = options;
        _viaFusermount = viaFusermount;
        Stats = options.CollectStats ? new FuseRequestStats() : null;
    }

    /// <summary>Request counts and times, when <see cref="FuseMountOptions.CollectStats"/> is set.</summary>
    public FuseRequestStats? Stats { get; }

    /// <summary>The absolute path of the mount.</summary>
    public string MountPoint { get; }

    /// <summary>What was negotiated with the kernel at INIT.</summary>
    public FuseConnectionInfo Connection =>
        _connection ?? throw new InvalidOperationException("The kernel has not sent INIT yet.");

    /// <summary>True while the readers run (the kernel connection is alive).</summary>
    public bool IsRunning => Volatile.Read(ref _running) > 0;

    /// <summary>Completes when every reader has stopped: the filesystem was unmounted or the connection aborted.</summary>
    public Task Completion => _completion.Task;

    /// <summary>
    /// Mounts <paramref name="fileSystem"/> at <paramref name="mountPoint"/> (an existing directory) and
    /// starts serving it. As root this calls mount(2); otherwise fusermount3 (package fuse3).
    /// </summary>
    /// <exception cref="FuseException">The mount failed; the message says why and what to do.</exception>
    public static FuseSession Mount(string mountPoint, IFuseFileSystem fileSystem, FuseMountOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(fileSystem);
        options ??= new FuseMountOptions();
        Validate(options);
        string full = Path.GetFullPath(mountPoint);
        if (full.Length > 1)
            full = full.TrimEnd('/');
        if (!Directory.Exists(full))
            throw new FuseException($"Cannot mount at {full}: no such directory; create it first", LinuxErrno.ENOENT);

        bool viaFusermount = options.UseFusermount ?? Libc.GetEuid() != 0;
        int fd = viaFusermount ? FuseMounter.MountWithFusermount(full, options) : FuseMounter.MountDirect(full, options);
        var session = new FuseSession(full, fileSystem, options, viaFusermount);
        try
        {
            session.Start(fd);
            AppDomain.CurrentDomain.ProcessExit += session.OnProcessExit;
            session.WaitForInit();
            if (options.ReadAheadKb > 0 && session._connectionId is { } id)
                FuseMounter.TrySetReadAhead(id, options.ReadAheadKb);
        }
        catch
        {
            session.Dispose();
            throw;
        }
        return session;
    }

    /// <summary>
    /// Serves <paramref name="fileSystem"/> on a mount that another process makes in a mount namespace of its own
    /// (<c>agentfs run</c>: the sandbox's, so the mount never exists in the host's namespace and goes away with
    /// the sandbox, even when this process is killed). Opens /dev/fuse (close-on-exec) and calls
    /// <paramref name="mount"/> with the descriptor and the mount(2) data for it; <paramref name="mount"/> hands
    /// the descriptor to a process that mounts it at <paramref name="mountPoint"/> in its namespace, and returns
    /// the pid of a process in that namespace once the mount is made (or throws). Then serves it like
    /// <see cref="Mount"/>. <see cref="Unmount"/> leaves the mount alone: it ends with its namespace, and so does
    /// this session.
    /// </summary>
    public static FuseSession ServeMountedElsewhere(string mountPoint, IFuseFileSystem fileSystem, FuseMountOptions options,
        Func<int, string, int> mount)
    {
        ArgumentNullException.ThrowIfNull(fileSystem);
        return ServeMountedElsewhere(mountPoint, () => fileSystem, options, mount);
    }

    /// <summary>
    /// As above, with the file system made by <paramref name="fileSystem"/> once the mount is made and before the
    /// kernel's INIT is answered: the caller may finish opening what it serves while the other process mounts,
    /// since the kernel holds every request of the mount until INIT. If it throws, the descriptor is closed (the
    /// caller ends the other process, and the mount with it).
    /// </summary>
    public static FuseSession ServeMountedElsewhere(string mountPoint, Func<IFuseFileSystem> fileSystem, FuseMountOptions options,
        Func<int, string, int> mount)
    {
        ArgumentNullException.ThrowIfNull(fileSystem);
        ArgumentNullException.ThrowIfNull(mount);
        Validate(options);
        string full = Path.GetFullPath(mountPoint);
        if (full.Length > 1)
            full = full.TrimEnd('/');
        int fd = FuseMounter.OpenDevice();
        FuseSession? session = null;
        try
        {
            int pidInNamespace = mount(fd, FuseMounter.MountData(fd, options));
            session = new FuseSession(full, fileSystem(), options, viaFusermount: false) { _mountedElsewhere = true };
            session.Start(fd, $"/proc/{pidInNamespace}/mountinfo");
            session.WaitForInit();
            if (options.ReadAheadKb > 0 && session._connectionId is { } id)
                FuseMounter.TrySetReadAhead(id, options.ReadAheadKb);
        }
        catch
        {
            if (session is null || session._deviceFd < 0)
                Libc.Close(fd);
            session?.Dispose();
            throw;
        }
        return session;
    }

    private bool _mountedElsewhere;

    private static void Validate(FuseMountOptions options)
    {
        if (options.Threads < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "Threads must be at least 1.");
        if (options.MaxPages is < 1 or > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(options), "MaxPages must be between 1 and 65535.");
        foreach (string value in new[] { options.FsName, options.Subtype })
            if (string.IsNullOrEmpty(value) || value.AsSpan().IndexOfAny(",\\ \t\n") >= 0)
                throw new ArgumentException($"'{value}' cannot be a FUSE fsname or subtype: use a non-empty name without commas, spaces or backslashes.", nameof(options));
    }

    private void Start(int fd, string mountInfo = "/proc/self/mountinfo")
    {
        _deviceFd = fd;
        try { _connectionId = FuseMounter.FindConnectionId(MountPoint, mountInfo); }
        catch (IOException) { _connectionId = null; } // the namespace's process is gone already
        int maxPayload = _options.MaxPages * 4096;
        var workers = new FuseWorker[_options.Threads];
        workers[0] = new FuseWorker(this, _fs, fd, ownsFd: true, 0, maxPayload);
        for (int i = 1; i < workers.Length; i++)
        {
            int clone = FuseMounter.CloneDevice(fd);
            if (clone < 0)
                Log($"Cannot clone /dev/fuse ({FuseException.ErrnoText(-clone)}); reader {i} shares the first descriptor");
            workers[i] = new FuseWorker(this, _fs, clone < 0 ? fd : clone, ownsFd: clone >= 0, i, maxPayload);
        }
        _workers = workers;
        _running = workers.Length;
        foreach (FuseWorker worker in workers)
            worker.Start();
    }

    private void WaitForInit()
    {
        if (!_initReplied.Wait(_options.InitTimeout))
            throw new FuseException($"The kernel sent no INIT for {MountPoint} within {_options.InitTimeout.TotalSeconds:0.#} s");
        if (_connection is null || _initError != 0)
            throw new FuseException($"The FUSE connection for {MountPoint} failed during INIT", _initError == 0 ? LinuxErrno.EIO : _initError);
    }

    /// <summary>
    /// Detaches the mount (umount2 with MNT_DETACH as root, fusermount3 -u -z otherwise). The readers stop
    /// once the last open file on it is closed.
    /// </summary>
    /// <exception cref="FuseException">The unmount was refused.</exception>
    public void Unmount()
    {
        if (_mountedElsewhere || !IsStillMounted())
            return;
        int errno = FuseMounter.Unmount(MountPoint, _viaFusermount, _options);
        if (errno != 0 && errno != LinuxErrno.EINVAL && errno != LinuxErrno.ENOENT)
            throw new FuseException($"Cannot unmount {MountPoint}", errno);
    }

    /// <summary>Waits for the readers to stop (after an unmount), up to <paramref name="timeout"/>.</summary>
    public bool WaitForExit(TimeSpan timeout) => Completion.Wait(timeout);

    /// <summary>Unmounts if still mounted, waits for the readers, releases descriptors and buffers.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _stopping = true;
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        try
        {
            Unmount();
        }
        catch (FuseException e)
        {
            Log(e.Message);
        }

        if (_workers.Length > 0 && !WaitForExit(_options.ShutdownTimeout))
        {
            // Still busy: files stay open on the detached mount. Abort the connection so the readers end.
            if (_connectionId is { } id && FuseMounter.TryAbort(id))
                WaitForExit(TimeSpan.FromSeconds(5));
        }

        bool allExited = Array.TrueForAll(_workers, w => w.Join(TimeSpan.FromSeconds(1)));
        if (!allExited)
        {
            Log($"FUSE readers for {MountPoint} did not stop; their descriptors and buffers are left open");
            return;
        }
        CloseDevice();
        foreach (FuseWorker worker in _workers)
            worker.FreeBuffers();
    }

    // The process is going away and the readers with it: detach the mount so it does not stay behind dead.
    private void OnProcessExit(object? sender, EventArgs e)
    {
        _stopping = true;
        try
        {
            Unmount();
        }
        catch (Exception)
        {
            // Nothing more can be done at exit.
        }
    }

    private bool IsStillMounted()
    {
        if (_connectionId is { } id)
            return FuseMounter.FindConnectionId(MountPoint) == id;
        return IsRunning;
    }

    private void CloseDevice()
    {
        _deviceClosing = true;
        var spin = new SpinWait();
        while (Volatile.Read(ref _deviceUsers) > 0)
            spin.SpinOnce();
        foreach (FuseWorker worker in _workers)
            if (worker.OwnsFd)
                Libc.Close(worker.Fd);
        _deviceFd = -1;
    }

    /// <summary>Guards use of the device descriptor from outside the readers (notify, ioctl) against Dispose.</summary>
    private bool EnterDevice()
    {
        Interlocked.Increment(ref _deviceUsers);
        if (_deviceClosing || _deviceFd < 0)
        {
            Interlocked.Decrement(ref _deviceUsers);
            return false;
        }
        return true;
    }

    private void ExitDevice() => Interlocked.Decrement(ref _deviceUsers);

    internal void Log(string message)
    {
        try
        {
            _options.Log?.Invoke(message);
        }
        catch
        {
            // A broken log sink must not take the readers down.
        }
    }

    internal bool HasGranted(FuseInitFlags flag) => _connection is { } c && c.Has(flag);

    /// <summary>Marks the request <paramref name="unique"/> interrupted if a reader is handling it.</summary>
    internal bool Interrupt(ulong unique)
    {
        foreach (FuseWorker worker in _workers)
            if (worker.TryMarkInterrupted(unique))
                return true;
        return false;
    }

    internal void OnInitReplied(bool ok)
    {
        if (!ok && _initError == 0)
            _initError = LinuxErrno.EIO;
        _initReplied.Set();
    }

    internal void OnDestroyRequest() => DestroyOnce();

    internal void OnWorkerExited(FuseWorker worker)
    {
        if (Interlocked.Decrement(ref _running) != 0)
            return;
        // Every reader is gone. If the mount is still there (the readers failed, or the connection was
        // aborted), detach it rather than leave a dead mount behind.
        if (!_stopping)
        {
            try
            {
                Unmount();
            }
            catch (Exception e)
            {
                Log($"Cannot detach the dead mount {MountPoint}: {e.Message}");
            }
        }
        DestroyOnce();
        _initReplied.Set();
        _completion.TrySetResult();
    }

    private void DestroyOnce()
    {
        if (Interlocked.Exchange(ref _destroyed, 1) != 0)
            return;
        try
        {
            _fs.Destroy();
        }
        catch (Exception e)
        {
            Log($"Destroy threw: {e}");
        }
    }
}
