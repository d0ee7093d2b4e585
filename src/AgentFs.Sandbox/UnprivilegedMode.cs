using AgentFs.Native;

namespace AgentFs.Sandbox;

/// <summary>
/// Whether this machine lets an ordinary user run a sandbox: the launcher creates a user namespace (in which it
/// may mount FUSE, Linux 4.18 and later) and bwrap two more inside it; agentfs run serves the /dev/fuse the
/// launcher opened there, taken with pidfd_getfd.
/// When something is missing, <see cref="Check"/> says in one line which sysctl or permission to change, before
/// anything is started (a failing unshare would only say "Operation not permitted").
/// </summary>
internal static class UnprivilegedMode
{
    public const string FuseDevice = "/dev/fuse";

    /// <summary>Throws an <see cref="AgentFsException"/> naming what to change when the kernel or /dev/fuse does
    /// not allow an unprivileged sandbox.</summary>
    public static void Check()
    {
        if (Problem(ReadSysctl, FuseDeviceProblem) is { } problem)
            throw new AgentFsException(Errno.EPERM, problem);
    }

    /// <summary>The one-line problem, or null; the sysctls are read with <paramref name="readSysctl"/> (dotted
    /// name to value, null when the kernel has no such sysctl), /dev/fuse is judged by <paramref name="fuseDevice"/>.</summary>
    internal static string? Problem(Func<string, string?> readSysctl, Func<string?> fuseDevice)
    {
        const string Prefix = "agentfs run without root needs unprivileged user namespaces, ";
        const string Otherwise = ", or run agentfs run as root";
        // Debian's own switch (its kernels before 5.10 defaulted to off).
        if (readSysctl("kernel.unprivileged_userns_clone") == "0")
            return Prefix + "which this kernel turns off (kernel.unprivileged_userns_clone = 0): " +
                "sysctl -w kernel.unprivileged_userns_clone=1 (and put it in /etc/sysctl.d to keep it)" + Otherwise;
        // Set to 0 by hardening guides. Each sandbox nests three: the launcher's, and bwrap's two (it is root in the
        // first to set up /dev, then maps the user back in the second).
        if (readSysctl("user.max_user_namespaces") is { } max && long.TryParse(max, out long limit) && limit < 3)
            return Prefix + $"which this kernel limits to {limit} (user.max_user_namespaces = {limit}; a sandbox needs 3): " +
                "sysctl -w user.max_user_namespaces=15000 (and put it in /etc/sysctl.d to keep it)" + Otherwise;
        // Ubuntu 23.10 and later: only programs with an AppArmor profile that allows it may create one.
        if (readSysctl("kernel.apparmor_restrict_unprivileged_userns") == "1")
            return Prefix + "which AppArmor restricts here (kernel.apparmor_restrict_unprivileged_userns = 1): " +
                "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give unshare and bwrap an AppArmor profile with 'userns,'" + Otherwise;
        // agentfs run takes the launcher's /dev/fuse descriptor with pidfd_getfd, which needs ptrace access to it
        // (Yama: 1 allows a child of ours, 2 only CAP_SYS_PTRACE, 3 nobody).
        if (readSysctl("kernel.yama.ptrace_scope") is "2" or "3")
            return $"agentfs run without root needs ptrace access to its own child, which Yama forbids here (kernel.yama.ptrace_scope = {readSysctl("kernel.yama.ptrace_scope")}): " +
                "sysctl -w kernel.yama.ptrace_scope=1 (3 needs a reboot)" + Otherwise;
        return fuseDevice();
    }

    /// <summary>Why this process cannot open /dev/fuse for reading and writing, or null when it can.</summary>
    private static string? FuseDeviceProblem()
    {
        if (!File.Exists(FuseDevice))
            return $"agentfs run needs {FuseDevice}, which this machine lacks: load the fuse module (modprobe fuse; package fuse3 for the rest)";
        if (LibC.access(FuseDevice, LibC.R_OK | LibC.W_OK) == 0)
            return null;
        string mode;
        try { mode = Convert.ToString((int)File.GetUnixFileMode(FuseDevice), 8).PadLeft(4, '0'); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { mode = "unknown"; }
        return $"agentfs run without root needs read and write access to {FuseDevice}, which is mode {mode} here: " +
            $"chmod 0666 {FuseDevice} as distributions ship it (package fuse3 installs a udev rule for that), or run agentfs run as root";
    }

    private static string? ReadSysctl(string name)
    {
        try { return File.ReadAllText("/proc/sys/" + name.Replace('.', '/')).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
