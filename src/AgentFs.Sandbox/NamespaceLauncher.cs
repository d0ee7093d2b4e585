using System.Diagnostics;
using AgentFs.Sandbox.Native;

namespace AgentFs.Sandbox;

/// <summary>
/// Starts the process that holds the sandbox's mount namespace and becomes bwrap:
/// <code>unshare --mount --propagation private -- setpriv --pdeathsig KILL -- /bin/bash -c SCRIPT ... bwrap ARGS -- CMD</code>
/// The script mounts the branch (the /dev/fuse descriptor this process serves) at the mount path inside that
/// namespace, says so on the ready pipe, closes both descriptors and execs bwrap. So the FUSE mount never exists
/// in the host's namespace (the base directory stays visible there, and no dead mount can be left behind): it
/// goes away with the namespace when the last process of the sandbox ends, even if agentfs run is SIGKILLed
/// (setpriv's parent-death signal covers the launcher until bwrap's --die-with-parent takes over).
///
/// .NET cannot enter a new mount namespace itself (unshare(CLONE_NEWNS) needs a single-threaded process), hence
/// util-linux's unshare and mount in a child.
/// </summary>
internal sealed class NamespaceLauncher
{
    /// <summary>Descriptors are made inheritable only for the instant of one fork; this keeps concurrent starts
    /// (several sandboxes in one process) from leaking them into each other's children.</summary>
    private static readonly object s_spawnLock = new();

    // bash, not sh: dash cannot name descriptors above 9.
    // Before the session covers the mount path, the base is bound at BaseStage, on a tmpfs over this namespace's
    // /dev/shm (the sandbox gets a /dev and a /dev/shm of its own, so nothing there is missed; the host never
    // sees it: propagation is private): bwrap binds it read-only inside, for diff and patch.
    private const string Script =
        "fuse_fd=$1 ready_fd=$2 mount_point=$3 mount_data=$4 base=$5 keep_fds=$6; shift 6\n" +
        "mount -n -t tmpfs -o size=64k,mode=0700 agentfs-stage /dev/shm && mkdir " + BaseStage + " && mount -n --bind \"$base\" " + BaseStage + " || exit 125\n" +
        "mount -i -n -t fuse.agentfs -o \"nosuid,nodev,$mount_data\" agentfs \"$mount_point\" || exit 125\n" +
        "echo >&\"$ready_fd\"\n" +
        // The sandbox must hold neither /dev/fuse (it could answer its own file requests) nor the ready pipe, nor
        // any descriptor agentfs run inherited (`agentfs run ... 7>file` in a shell): all but 0-2 and bwrap's data.
        "for fd in /proc/self/fd/*; do fd=${fd##*/}; case \" 0 1 2 $keep_fds \" in *\" $fd \"*) ;; *) eval \"exec $fd>&-\" 2>/dev/null;; esac; done\n" +
        "exec \"$@\"\n";

    /// <summary>Where the launcher's namespace shows the base directory (see the script).</summary>
    public const string BaseStage = "/dev/shm/base";

    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Process? _process;

    /// <summary>A network namespace (descriptor) the launcher is started in (--net allow=); -1: this process's.</summary>
    public int NetworkNamespaceFd { get; set; } = -1;

    /// <summary>The launcher's pid (bwrap's, once it runs), in the host's PID namespace.</summary>
    public int Pid { get; private set; }

    /// <summary>Completes with the exit code (128 + signal when the sandbox was killed).</summary>
    public Task<int> Exit => _exit.Task;

    /// <summary>
    /// Starts the launcher and returns once the branch is mounted in its namespace. The process is started on a
    /// thread of its own that lives until the process ends: the parent-death signal follows the thread that
    /// forked, not the process, and a pool thread may end any time.
    /// </summary>
    public void Start(string mountPath, string baseDirectory, int fuseFd, string mountData, Func<int, int?, List<string>> bwrapArguments,
        IReadOnlyList<string> commandInside, byte[]? agentfsScript)
    {
        string bwrap = Tools.Find("bwrap", "bubblewrap");
        string unshare = Tools.Find("unshare", "util-linux");
        string setpriv = Tools.Find("setpriv", "util-linux");
        Tools.Find("mount", "mount");

        int seccompFd = SandboxLibc.PipeWith(TerminalInjectionFilter.Program());
        int scriptFd = agentfsScript is null ? -1 : SandboxLibc.PipeWith(agentfsScript);
        var (readyRead, readyWrite) = SandboxLibc.Pipe();
        try
        {
            var psi = new ProcessStartInfo(unshare) { UseShellExecute = false };
            foreach (string arg in (string[])["--mount", "--propagation", "private", "--", setpriv, "--pdeathsig", "KILL", "--",
                         "/bin/bash", "-c", Script, "agentfs-launch", fuseFd.ToString(), readyWrite.ToString(), mountPath, mountData, baseDirectory,
                         scriptFd < 0 ? $"{seccompFd}" : $"{seccompFd} {scriptFd}", bwrap])
                psi.ArgumentList.Add(arg);
            foreach (string arg in bwrapArguments(seccompFd, scriptFd < 0 ? null : scriptFd)) psi.ArgumentList.Add(arg);
            psi.ArgumentList.Add("--");
            foreach (string arg in commandInside) psi.ArgumentList.Add(arg);

            Exception? failure = null;
            using var started = new ManualResetEventSlim();
            var thread = new Thread(() =>
            {
                try
                {
                    // A thread of its own, so only it (and what it forks) enters the sandbox's network.
                    if (NetworkNamespaceFd >= 0) SandboxNetworkNamespace.Enter(NetworkNamespaceFd);
                    lock (s_spawnLock)
                    {
                        int[] passed = scriptFd < 0 ? [fuseFd, readyWrite, seccompFd] : [fuseFd, readyWrite, seccompFd, scriptFd];
                        foreach (int fd in passed) SandboxLibc.SetInheritable(fd, true);
                        try { _process = Process.Start(psi)!; }
                        finally { foreach (int fd in passed) SandboxLibc.SetInheritable(fd, false); }
                    }
                    Pid = _process.Id;
                }
                catch (Exception e) { failure = e; }
                started.Set();
                if (failure != null) return;
                _process!.WaitForExit();
                _exit.TrySetResult(_process.ExitCode);
            }) { Name = "agentfs-sandbox", IsBackground = true };
            thread.Start();
            started.Wait();
            if (failure != null)
                throw new AgentFsException(Errno.EIO, $"cannot start the sandbox ({failure.Message})");

            SandboxLibc.close(readyWrite);
            readyWrite = -1;
            if (!SandboxLibc.ReadByte(readyRead, 30_000))
            {
                Kill();
                int code = Exit.Wait(TimeSpan.FromSeconds(5)) ? Exit.Result : -1;
                throw new AgentFsException(Errno.EIO,
                    $"cannot mount the session at {mountPath} in the sandbox's namespace (launcher exit {code}); see the message above");
            }
        }
        finally
        {
            SandboxLibc.close(readyRead);
            if (readyWrite >= 0) SandboxLibc.close(readyWrite);
            SandboxLibc.close(seccompFd);
            if (scriptFd >= 0) SandboxLibc.close(scriptFd);
        }
    }

    /// <summary>SIGKILLs the launcher (bwrap): its --die-with-parent then kills the sandbox's PID 1, and the PID
    /// namespace ends every process in it.</summary>
    public void Kill()
    {
        if (Pid > 0 && !Exit.IsCompleted) SandboxLibc.kill(Pid, 9);
    }
}
