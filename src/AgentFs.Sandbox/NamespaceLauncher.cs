using AgentFs.Native;
using System.Diagnostics;
using AgentFs.Sandbox.Native;

namespace AgentFs.Sandbox;

/// <summary>
/// Starts the process that holds the sandbox's mount namespace and becomes bwrap:
/// <code>unshare --mount --propagation private -- setpriv --pdeathsig KILL -- /bin/bash -c SCRIPT ... bwrap ARGS -- CMD</code>
/// (not root: <c>unshare --user --map-current-user --keep-caps --mount ... SCRIPT ... setpriv --ambient-caps -all -- bwrap ...</c>)
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
    // Before the session covers the mount path, the base is bound at the stage, an empty directory of this
    // sandbox in the runtime directory (the host never sees the bind: propagation is private): bwrap binds it
    // read-only inside, for diff and patch. Not over a directory of the host such as /dev/shm: that would hide
    // what is there from --bind and --ro.
    // Not root (fuse_fd is "-"): the kernel mounts FUSE only on a /dev/fuse opened in the mounter's own user
    // namespace, so the script opens it there and tells agentfs run its number on the ready pipe, for agentfs run
    // to take a copy (pidfd_getfd) to serve. Then, root or not, it waits on the go pipe: agentfs run says go once
    // the branch is its own (the launcher runs while the branch is being taken, see Sandbox.Start), and closes the
    // pipe instead when that failed: no bwrap has started then, and nothing of the command ran.
    private const string Script =
        "fuse_fd=$1 ready_fd=$2 mount_point=$3 mount_data=$4 base=$5 go_fd=$6 stage=$7 store_dir=$8 keep_fds=$9 listen_n=${10}; shift 10\n" +
        "listen=(\"${@:1:listen_n}\"); shift \"$listen_n\"\n" +
        "mount -n --bind \"$base\" \"$stage\" || exit 125\n" +
        // Host Unix sockets (HostUnixSockets): /dev/null over each, in this namespace (bwrap's --ro-bind / / takes
        // the binds along); one removed since it was listed is skipped, where a bwrap bind would fail the start.
        "while IFS= read -r -d '' s; do mount -n --bind /dev/null \"$s\" 2>/dev/null; done < \"$stage.sockets\"\n" +
        DetachOtherSessions +
        // Not root, --net allow=: the network namespace came with the user namespace (unshare --net); the helper
        // (SandboxNetworkHelper) listens in it for the proxy and names its socket on the ready pipe.
        "if [ \"$listen_n\" -gt 0 ]; then \"${listen[@]}\" <&\"$go_fd\" >&\"$ready_fd\" || exit 124; fi\n" +
        "if [ \"$fuse_fd\" = - ]; then exec {fuse_fd}<>/dev/fuse || exit 125; fi\n" +
        "mount -i -n -t fuse.agentfs -o \"nosuid,nodev,fd=$fuse_fd,$mount_data\" agentfs \"$mount_point\" || exit 125\n" +
        "echo \"$fuse_fd\" >&\"$ready_fd\"\n" +
        "read -r _ <&\"$go_fd\" || exit 125\n" +
        // The sandbox must hold neither /dev/fuse (it could answer its own file requests) nor the ready and go
        // pipes, nor any descriptor agentfs run inherited (`agentfs run ... 7>file` in a shell): all but 0-2 and
        // bwrap's data.
        "for fd in /proc/self/fd/*; do fd=${fd##*/}; case \" 0 1 2 $keep_fds \" in *\" $fd \"*) ;; *) eval \"exec $fd>&-\" 2>/dev/null;; esac; done\n" +
        "exec \"$@\"\n";

    // Other sessions mounted on the host (fuse.agentfs) are none of the sandbox's business, and the copy of their
    // mount in this namespace (bwrap's --ro-bind / / takes it along) would pin them: 'agentfs unmount' on the host
    // could not end them while the sandbox runs. So they are detached here, in this namespace only (propagation is
    // private), unless one holds the mount path, the base or the store. Other FUSE mounts (sshfs, a network home)
    // stay: the user may need them, and they are not ours to judge.
    private const string DetachOtherSessions =
        "while read -r -a f; do\n" +
        "  i=6; while [ $i -lt ${#f[@]} ] && [ \"${f[i]}\" != - ]; do i=$((i + 1)); done\n" +
        "  [ \"${f[i+1]}\" = fuse.agentfs ] || continue\n" +
        "  printf -v m '%b' \"${f[4]}\"\n" + // mountinfo escapes space, tab, newline and backslash as \ooo
        "  case \"$mount_point/\" in \"$m\"/*) continue;; esac; case \"$base/\" in \"$m\"/*) continue;; esac; case \"$store_dir/\" in \"$m\"/*) continue;; esac\n" +
        "  umount -n -l \"$m\" 2>/dev/null\n" +
        "done < /proc/self/mountinfo\n";

    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Process? _process;

    /// <summary>A network namespace (descriptor) the launcher is started in (--net allow=); -1: this process's.</summary>
    public int NetworkNamespaceFd { get; set; } = -1;

    /// <summary>Not root, --net allow=: the command that runs <see cref="SandboxNetworkHelper"/> (the agentfs command
    /// and its verb and port); the launcher then creates the network namespace with its user namespace.</summary>
    public IReadOnlyList<string>? NetworkHelper { get; set; }

    /// <summary>The network namespace the launcher created for <see cref="NetworkHelper"/>, with the proxy's
    /// listening socket in it, once <see cref="Start"/> returned.</summary>
    public SandboxNetworkNamespace? HelperNetwork { get; private set; }

    /// <summary>The launcher's pid (bwrap's, once it runs), in the host's PID namespace.</summary>
    public int Pid { get; private set; }

    /// <summary>Completes with the exit code (128 + signal when the sandbox was killed).</summary>
    public Task<int> Exit => _exit.Task;

    /// <summary>
    /// Starts the launcher and returns once the branch is mounted in its namespace. The process is started on a
    /// thread of its own that lives until the process ends: the parent-death signal follows the thread that
    /// forked, not the process, and a pool thread may end any time.
    /// </summary>
    public void Start(bool unprivileged, string mountPath, string baseDirectory, string baseStage, string storeDirectory, int fuseFd, string mountData, Func<int, int?, List<string>> bwrapArguments,
        IReadOnlyList<string> commandInside, byte[]? agentfsScript)
    {
        string bwrap = Tools.Find("bwrap", "bubblewrap");
        string unshare = Tools.Find("unshare", "util-linux");
        string setpriv = Tools.Find("setpriv", "util-linux");
        Tools.Find("mount", "mount");

        // The script adds fd= itself (not root, it is a descriptor of its own).
        string fdOption = $"fd={fuseFd},";
        if (!mountData.StartsWith(fdOption, StringComparison.Ordinal))
            throw new ArgumentException($"the mount data must start with {fdOption}", nameof(mountData));
        string mountDataWithoutFd = mountData[fdOption.Length..];

        int seccompFd = SandboxCalls.PipeWith(TerminalInjectionFilter.Program());
        int scriptFd = agentfsScript is null ? -1 : SandboxCalls.PipeWith(agentfsScript);
        var (readyRead, readyWrite) = SandboxCalls.Pipe();
        var (goRead, goWrite) = SandboxCalls.Pipe();
        try
        {
            var psi = new ProcessStartInfo(unshare) { UseShellExecute = false };
            // Not root: a user namespace first, owning the mount namespace, in which the launcher may mount. It maps
            // the user to itself (not to 0), so the FUSE requests carry the user's own uid and the uids agentfs run
            // reports (the base's owners) mean the same inside: files stay the user's. Its capabilities in that
            // namespace survive the exec only as ambient ones (--keep-caps), and are dropped again before bwrap,
            // which refuses to start with capabilities it did not get from being setuid.
            bool helper = unprivileged && NetworkHelper is { Count: > 0 };
            if (unprivileged)
                foreach (string arg in (string[])["--user", "--map-current-user", "--keep-caps"]) psi.ArgumentList.Add(arg);
            if (helper) psi.ArgumentList.Add("--net");
            foreach (string arg in (string[])["--mount", "--propagation", "private", "--", setpriv, "--pdeathsig", "KILL", "--",
                         "/bin/bash", "-c", Script, "agentfs-launch", unprivileged ? "-" : fuseFd.ToString(), readyWrite.ToString(), mountPath,
                         mountDataWithoutFd, baseDirectory, goRead.ToString(), baseStage, storeDirectory,
                         scriptFd < 0 ? $"{seccompFd}" : $"{seccompFd} {scriptFd}", helper ? NetworkHelper!.Count.ToString() : "0"])
                psi.ArgumentList.Add(arg);
            if (helper)
                foreach (string arg in NetworkHelper!) psi.ArgumentList.Add(arg);
            if (unprivileged)
                foreach (string arg in (string[])[setpriv, "--inh-caps", "-all", "--ambient-caps", "-all", "--"]) psi.ArgumentList.Add(arg);
            psi.ArgumentList.Add(bwrap);
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
                        var passed = new List<int> { readyWrite, seccompFd, goRead };
                        if (!unprivileged) passed.Add(fuseFd);
                        if (scriptFd >= 0) passed.Add(scriptFd);
                        foreach (int fd in passed) SandboxCalls.SetInheritable(fd, true);
                        try { _process = Process.Start(psi)!; }
                        finally { foreach (int fd in passed) SandboxCalls.SetInheritable(fd, false); }
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

            LibC.close(readyWrite);
            readyWrite = -1;
            LibC.close(goRead);
            goRead = -1;
            if (helper && !TakeHelperNetwork(readyRead, goWrite))
            {
                Kill();
                int code = Exit.Wait(TimeSpan.FromSeconds(5)) ? Exit.Result : -1;
                throw new AgentFsException(Errno.EPERM,
                    $"cannot set up the network of --net allow= without root (launcher exit {code}, see the message above); use --net none or --net host, or run agentfs run as root");
            }
            string? mountedFd = SandboxCalls.ReadLine(readyRead, 30_000);
            if (mountedFd is not null && unprivileged)
            {
                // Serve the launcher's /dev/fuse (the mounted connection) under the descriptor number agentfs run
                // opened, which the FUSE session then reads; the launcher may close its copy once we hold ours.
                int errno = int.TryParse(mountedFd, out int launcherFd) ? SandboxCalls.ReplaceWithDescriptorOf(Pid, launcherFd, fuseFd) : 22;
                if (errno != 0)
                {
                    Kill();
                    throw new AgentFsException(errno == 1 ? Errno.EPERM : Errno.EIO,
                        $"cannot take the sandbox's /dev/fuse descriptor from its launcher (pid {Pid}, {ErrnoName(errno)}); " +
                        "agentfs run without root needs pidfd_getfd (Linux 5.6, glibc 2.36) and ptrace access to its own children (kernel.yama.ptrace_scope at most 1)");
                }
            }
            if (mountedFd is null)
            {
                Kill();
                int code = Exit.Wait(TimeSpan.FromSeconds(5)) ? Exit.Result : -1;
                // 125: the script's mounts failed; anything else before it: unshare could not make the namespaces.
                if (unprivileged && code != 125)
                    throw new AgentFsException(Errno.EPERM,
                        $"cannot create the sandbox's user and mount namespaces without root (unshare exit {code}, see the message above); " +
                        "the kernel or a security module refuses unprivileged user namespaces here: allow them, or run agentfs run as root");
                throw new AgentFsException(Errno.EIO,
                    $"cannot mount the session at {mountPath} in the sandbox's namespace (launcher exit {code}); see the message above");
            }
            _goWrite = goWrite;
            goWrite = -1;
        }
        catch
        {
            HelperNetwork?.Dispose();
            HelperNetwork = null;
            throw;
        }
        finally
        {
            LibC.close(readyRead);
            if (readyWrite >= 0) LibC.close(readyWrite);
            if (goRead >= 0) LibC.close(goRead);
            if (goWrite >= 0) LibC.close(goWrite);
            LibC.close(seccompFd);
            if (scriptFd >= 0) LibC.close(scriptFd);
        }
    }

    /// <summary>Reads the helper's "listen PID FD" line, takes its socket and lets it end.</summary>
    private bool TakeHelperNetwork(int readyRead, int goWrite)
    {
        string[]? words = SandboxCalls.ReadLine(readyRead, 30_000)?.Split(' ');
        if (words is not ["listen", var p, var f] || !int.TryParse(p, out int pid) || !int.TryParse(f, out int fd)) return false;
        HelperNetwork = SandboxNetworkNamespace.FromHelper(pid, fd);
        return SandboxCalls.WriteByte(goWrite, (byte)'\n');
    }

    private static string ErrnoName(int errno) => errno switch
    {
        1 => "EPERM", 3 => "ESRCH", 9 => "EBADF", 22 => "EINVAL", 38 => "ENOSYS", _ => "errno " + errno,
    };

    private int _goWrite = -1;

    /// <summary>Lets the mounted launcher become bwrap and start the command (once the branch is held).</summary>
    public void Go()
    {
        int fd = Interlocked.Exchange(ref _goWrite, -1);
        if (fd < 0) return;
        bool said = SandboxCalls.WriteByte(fd, (byte)'\n');
        LibC.close(fd);
        if (!said) throw new AgentFsException(Errno.EIO, $"the sandbox's launcher (pid {Pid}) ended before it could start the command");
    }

    /// <summary>SIGKILLs the launcher (bwrap): its --die-with-parent then kills the sandbox's PID 1, and the PID
    /// namespace ends every process in it.</summary>
    public void Kill()
    {
        // Still waiting for go: closing the pipe ends it too (the script exits 125), so no bwrap ever starts.
        int fd = Interlocked.Exchange(ref _goWrite, -1);
        if (fd >= 0) LibC.close(fd);
        if (Pid > 0 && !Exit.IsCompleted) LibC.kill(Pid, 9);
    }
}
