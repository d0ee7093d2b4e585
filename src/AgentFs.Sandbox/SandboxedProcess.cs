using AgentFs.Fuse.Protocol;
using AgentFs.Native;

namespace AgentFs.Sandbox;

/// <summary>
/// A command running in a sandbox (<see cref="Sandbox.Start"/>): its exit, the session it works on, and the
/// way to stop it. Dispose waits for the sandbox to end (stopping it first if it runs), lets the kernel hand
/// back the last writes, commits them durably, and frees the branch.
/// </summary>
public sealed class SandboxedProcess : IDisposable
{
    private readonly SandboxOptions _options;
    private readonly FuseSession _session;
    private readonly NamespaceLauncher _launcher;
    private int _stopping, _disposed;

    internal SandboxedProcess(SandboxOptions options, AgentStore store, AgentFileSystem fs, FuseSession session,
        NamespaceLauncher launcher, SandboxLayout layout, SandboxRecord record, string registryFile, EgressProxy? proxy = null)
    {
        _proxy = proxy;
        _options = options;
        Store = store;
        FileSystem = fs;
        _session = session;
        _launcher = launcher;
        MountPath = layout.MountPath;
        _baseStage = layout.BaseStage;
        WorkingDirectory = layout.WorkingDirectory;
        Record = record;
        _registryFile = registryFile;
    }

    private readonly string _registryFile;
    private readonly string _baseStage;
    private readonly EgressProxy? _proxy;

    /// <summary>With --net allow=: the connections the proxy allowed (made, or failed to connect) and refused so far.</summary>
    public (long Allowed, long Refused) NetworkAttempts => _proxy is { } p ? (p.Allowed, p.Refused) : (0, 0);

    /// <summary>What <c>agentfs status</c> shows of this sandbox.</summary>
    public SandboxRecord Record { get; }

    /// <summary>The store; open for as long as this handle.</summary>
    public AgentStore Store { get; }

    /// <summary>The branch's file system, held for writing (the lease) until Dispose.</summary>
    public AgentFileSystem FileSystem { get; }

    /// <summary>The branch the sandbox works on.</summary>
    public string Branch => FileSystem.Branch;

    /// <summary>Where the branch appears inside the sandbox.</summary>
    public string MountPath { get; }

    /// <summary>The directory the command started in, inside.</summary>
    public string WorkingDirectory { get; }

    /// <summary>The host pid of the sandbox's outer process (bwrap); killing it ends the sandbox.</summary>
    public int Pid => _launcher.Pid;

    /// <summary>Completes with the command's exit code (128 + signal when it was killed).</summary>
    public Task<int> Exit => _launcher.Exit;

    /// <summary>
    /// Ends the sandbox: <paramref name="signal"/> (default SIGTERM; agentfs run passes on the one it got) to every
    /// process in it, SIGKILL to all after <see cref="SandboxOptions.StopTimeout"/> (when the command itself ends
    /// first, its PID namespace ends the rest at once). Returns at once; <see cref="Exit"/> completes when it is over.
    /// </summary>
    public void Stop(int signal = 15)
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0 || Exit.IsCompleted) return;
        foreach (int pid in SandboxProcesses.Find(Pid, includeInit: false)) LibC.kill(pid, signal);
        _ = Task.Delay(_options.StopTimeout).ContinueWith(_ => _launcher.Kill(), TaskScheduler.Default);
    }

    /// <summary>
    /// Waits for the command to end, then for the session: the namespace goes with the sandbox's last process,
    /// and the kernel writes the dirty pages back to us while it unmounts, then ends the connection. Commits
    /// everything durably. Returns the exit code. The branch stays held (for a checkpoint) until Dispose.
    /// </summary>
    public int WaitForExit()
    {
        int code = Exit.GetAwaiter().GetResult();
        _proxy?.Dispose(); // the sandbox's processes are gone: its connections end, each is reported
        if (Interlocked.Exchange(ref _sessionEnded, 1) == 0)
        {
            _session.WaitForExit(TimeSpan.FromSeconds(10));
            _session.Dispose();
            FileSystem.Flush(durable: true);
        }
        return code;
    }

    private int _sessionEnded;

    /// <summary>Stops the sandbox if it runs, waits for it (<see cref="WaitForExit"/>), frees the branch and the store.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            if (!Exit.IsCompleted)
            {
                Stop();
                if (!Exit.Wait(_options.StopTimeout + TimeSpan.FromSeconds(5))) _launcher.Kill();
            }
            if (Exit.Wait(TimeSpan.FromSeconds(10))) WaitForExit();
        }
        finally
        {
            _proxy?.Dispose();
            FileSystem.Dispose();
            Store.Dispose();
            if (_registryFile.Length > 0)
                try { File.Delete(_registryFile); } catch (Exception) { }
            BaseStage.Remove(_baseStage);
        }
    }
}
