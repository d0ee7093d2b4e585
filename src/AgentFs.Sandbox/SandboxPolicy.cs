namespace AgentFs.Sandbox;

/// <summary>
/// EVERYTHING THE SANDBOX ALLOWS, in one place: the bubblewrap (bwrap) arguments built from the options.
/// A reviewer reads this file to know what a command run by <c>agentfs run</c> can see, change and reach.
///
/// How it is started (see <see cref="NamespaceLauncher"/>): <c>agentfs run</c> serves the branch with FUSE from
/// the host; a child process enters a private mount namespace of its own (unshare), mounts the branch there at
/// the mount path (over the base directory's path by default: in the host's namespace the base stays visible
/// and untouched) and then becomes bwrap with these arguments. bwrap builds the sandbox's own namespaces from
/// that view, so the session is what the command sees at the mount path.
///
/// The rules, in the order bwrap applies them (later mounts cover earlier ones):
/// <list type="number">
/// <item>the host's whole tree read-only: toolchains, /usr, the user's configuration work as on the host;</item>
/// <item>a minimal /dev, /proc of the sandbox's own PID namespace, and private empty /tmp, /dev/shm and /run
///   (/run holds the host's service sockets: Docker, systemd, D-Bus; a socket ignores a read-only mount, so
///   they are hidden, not just read-only);</item>
/// <item>the paths named with --bind, writable (they never cover the store, nor lie inside the mount path);</item>
/// <item>the session, writable, at the mount path;</item>
/// <item>the store's directory, read-only (it may lie in /tmp); the base, read-only, at /run/agentfs/base (for
///   diff and patch); the session's own control socket (and no other), so checkpoints can be taken from
///   inside; and an <c>agentfs</c> command on PATH;</item>
/// <item>the paths named with --ro, read-only; then the paths named with --hide, empty; then /dev/null over every
///   Unix socket the host has bound outside /run and /tmp (connect() ignores a read-only mount), except below a
///   --bind path (<see cref="HostUnixSockets"/>);</item>
/// <item>new PID, IPC, UTS and cgroup namespaces (and a network one unless --net host: loopback only, and with
///   --net allow= the proxy of agentfs run listening on its 127.0.0.1; and a user one, mapping the user to itself
///   when agentfs run is not root, or to the uid of --user), every capability
///   dropped, no_new_privs (bwrap always sets it), a seccomp filter against terminal injection, and the
///   command killed with the sandbox when <c>agentfs run</c> dies.</item>
/// </list>
/// </summary>
internal static class SandboxPolicy
{
    /// <summary>The runtime directory inside: a tmpfs holding only this session's control socket.</summary>
    public const string RuntimeDirectoryInside = "/run/agentfs";

    /// <summary>Where the base directory is, read-only, inside.</summary>
    public const string BaseInside = "/run/agentfs/base";

    /// <summary>Where the <c>agentfs</c> command is, inside (put first on PATH).</summary>
    public const string BinDirectoryInside = "/run/agentfs/bin";

    /// <summary>Where the directory of the agentfs program is, read-only, inside (the command there runs it).</summary>
    public const string ProgramDirectoryInside = "/run/agentfs/program";

    /// <summary>Set inside to "PID STORE_ID BRANCH": which branch the process outside the sandbox's PID namespace
    /// holds, so the client reaches it through the control socket (it cannot see that pid from inside).</summary>
    public const string SandboxVariable = "AGENTFS_SANDBOX";

    public static List<string> BwrapArguments(SandboxOptions options, SandboxLayout layout)
    {
        var a = new List<string>();
        void Add(params string[] args) => a.AddRange(args);

        // 1. The host, read-only. Recursive: every mount below / comes along, read-only too; except other sessions
        //    of AgentFs mounted on the host, which the launcher detached (they would be pinned: NamespaceLauncher).
        Add("--ro-bind", "/", "/");

        // 2. Fresh system directories. --dev: null, zero, full, random, urandom, tty and a private devpts,
        //    no disks, no /dev/fuse. --proc: the new PID namespace's processes only; bwrap keeps /proc/sys,
        //    /proc/sysrq-trigger, /proc/irq and /proc/bus read-only (root inside must not set sysctls).
        Add("--dev", "/dev");
        Add("--proc", "/proc");
        Add("--tmpfs", "/tmp");
        Add("--tmpfs", "/dev/shm");
        // /run: sockets of host services (docker.sock, systemd's private socket, D-Bus) are reachable through a
        // read-only mount, and root may use them to act outside. A private /run hides them all (and gives
        // services inside, e.g. PostgreSQL, a writable /run). DNS may resolve through /run/systemd/resolve.
        Add("--tmpfs", "/run");
        if (Directory.Exists("/run/systemd/resolve")) Add("--ro-bind", "/run/systemd/resolve", "/run/systemd/resolve");

        // The store, read-only, where agentfs inside looks for it (it may lie in /tmp, which is private now):
        // agentfs checkpoint, log and diff read it; changes go through the control socket to agentfs run.
        Add("--ro-bind", Path.GetDirectoryName(layout.StorePath)!, Path.GetDirectoryName(layout.StorePath)!);

        // 3. What the user made writable, explicitly.
        foreach (string path in layout.WritablePaths) Add("--bind", path, path);

        // 4. The session. The source is resolved in the launcher's mount namespace, where the branch is mounted
        //    at the mount path; it covers any --bind above it.
        Add("--bind", layout.MountPath, layout.MountPath);

        // 5. Checkpoints from inside: this session's control socket, alone in the runtime directory (another
        //    session's socket would let the command change a branch it was not given), and agentfs on PATH.
        if (layout.ControlSocket is { } socket)
            // -try: the arguments are made before the view is open (it opens while the launcher starts, Sandbox.Start);
            // bwrap runs once it is, and a view without a usable runtime directory has no socket.
            Add("--ro-bind-try", socket, Path.Combine(RuntimeDirectoryInside, Path.GetFileName(socket)));
        // The base, read-only, beside the session: the session covers the base's own path, and agentfs diff and
        // patch read the base (AGENTFS_SANDBOX_BASE tells them where).
        Add("--ro-bind", layout.BaseStage, BaseInside);
        if (layout.AgentfsScriptFd is int scriptFd)
        {
            Add("--perms", "0755", "--ro-bind-data", scriptFd.ToString(), Path.Combine(BinDirectoryInside, "agentfs"));
            if (layout.ProgramDirectory is { } programDirectory) Add("--ro-bind", programDirectory, ProgramDirectoryInside);
        }

        // 6. Read-only and hidden paths, last, so they win over the writable ones.
        foreach (string path in layout.ReadOnlyPaths) Add("--ro-bind", path, path);
        foreach (var (path, isDirectory) in layout.HiddenPaths)
            if (isDirectory) Add("--tmpfs", path);
            else Add("--dev-bind", "/dev/null", path); // reads as empty; --ro-bind would mount it nodev: EACCES

        // 6b. Unix sockets of host services outside /run and /tmp: connect() ignores read-only mounts, so each one
        //     bound on the host now gets /dev/null over it (ECONNREFUSED). Not those below a --bind path (opened on
        //     purpose), the session or a hidden path. The launcher binds them before bwrap runs (NamespaceLauncher),
        //     skipping one removed meanwhile; see HostUnixSockets for the limits.

        // 7. Namespaces and privileges.
        Add("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try");
        // Not root: bwrap runs without any privilege (never relying on a setuid bit: the launcher's user namespace
        // does not map root, so the kernel would ignore one) and makes a user namespace of its own inside the
        // launcher's, mapping the user to itself again: the command runs with the user's own uid and gid, owns the
        // files it creates in the session, and has no capability anywhere.
        if (layout.Unprivileged && options.User is null) Add("--unshare-user");
        if (options.Network == NetworkMode.None) Add("--unshare-net"); // loopback only, private to the sandbox
        // --user: the command sees itself as that uid and gid, through a user namespace that maps them to the caller
        // (bwrap writes the map before it drops its capabilities). It gains nothing: to the session and the host it is
        // the caller still. For servers that refuse root (PostgreSQL); root without capabilities cannot setuid itself.
        if (options.User is { } user) Add("--unshare-user", "--uid", user.Uid.ToString(), "--gid", user.Gid.ToString());
        // --net allow=: the launcher was started in a network namespace of agentfs run's (SandboxNetworkNamespace):
        // loopback only, like none, plus the proxy's listening socket on its 127.0.0.1, served from outside
        // (EgressProxy), which connects only where the allow list says and logs each attempt. Nothing else leaves:
        // a client that ignores the proxy finds no route (and no DNS: the proxy resolves names).
        Add("--die-with-parent");   // agentfs run killed (even SIGKILL): the sandbox's PID 1 dies, and with it all
        Add("--cap-drop", "ALL");   // root inside cannot remount, mknod, ptrace, load modules or change the clock
        // TIOCSTI/TIOCLINUX would let the command type into the user's terminal, to run after agentfs run ends
        // (dev.tty.legacy_tiocsti is still 1 on many kernels). A seccomp filter refuses them instead of
        // --new-session, which would take the terminal's job control away from interactive agents and shells.
        Add("--seccomp", layout.SeccompFd.ToString());

        // Environment: the caller's, passed through, with the user's changes and ours.
        if (options.Network == NetworkMode.Allow)
        {
            // Before the user's --env, which may change them (the namespace keeps everything else out anyway).
            string proxy = $"http://127.0.0.1:{layout.ProxyPort}";
            foreach (string name in (string[])["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) Add("--setenv", name, proxy);
            // The sandbox's own loopback (its servers, e.g. a database) is reached directly.
            foreach (string name in (string[])["NO_PROXY", "no_proxy"]) Add("--setenv", name, "localhost,127.0.0.1,::1");
            foreach (string name in (string[])["ALL_PROXY", "all_proxy"]) Add("--unsetenv", name);
        }
        foreach (string name in options.UnsetEnvironment) Add("--unsetenv", name);
        foreach (var (name, value) in options.SetEnvironment) Add("--setenv", name, value);
        string path0 = options.SetEnvironment.TryGetValue("PATH", out var p) ? p
            : Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        if (layout.AgentfsScriptFd is not null) Add("--setenv", "PATH", BinDirectoryInside + ":" + path0);
        Add("--setenv", "AGENTFS_RUNTIME_DIR", RuntimeDirectoryInside);
        Add("--setenv", "AGENTFS_STORE", layout.StorePath);
        Add("--setenv", "AGENTFS_BRANCH", layout.Branch);
        Add("--setenv", SandboxVariable, $"{Environment.ProcessId} {layout.StoreId} {layout.Branch}");
        Add("--setenv", "AGENTFS_SANDBOX_BASE", $"{layout.StoreId} {BaseInside}");

        Add("--chdir", layout.WorkingDirectory);
        return a;
    }

    /// <summary>
    /// The command line that runs inside: a shell that looks the command up as shells do and says so in one line
    /// (exit 127) when it is not there, then becomes the command (same pid, same arguments).
    /// </summary>
    public static List<string> CommandInside(IReadOnlyList<string> command)
    {
        var a = new List<string>
        {
            "/bin/sh", "-c",
            "command -v \"$1\" >/dev/null 2>&1 || { printf 'agentfs: %s: command not found in the sandbox (PATH=%s)\\n' \"$1\" \"$PATH\" >&2; exit 127; }; exec \"$@\"",
            "agentfs-run",
        };
        a.AddRange(command);
        return a;
    }
}
