using System.Security.Cryptography;
using System.Text;
using AgentFs.Native;

namespace AgentFs.Control;

/// <summary>
/// Where the process that holds a branch for writing listens for control requests: a Unix socket in the
/// runtime directory, named after the store's id and the branch, so any process that can open the store
/// finds it without asking the holder. The mount registry (<c>agentfs status</c>) lives there too.
/// <para>
/// Invariant: a runtime directory is used only when it is a real directory (not a symlink) owned by the
/// user whose processes listen in it, not writable by group or others, below ancestors that only root or
/// that user can change (or that are sticky, like /tmp; in a user namespace that does not map root, as inside
/// <c>agentfs run</c> without root, root's ancestors show as the overflow uid and count as root's). Whoever can write the directory can swap the
/// socket for a server of their own that reads every request (checkpoint messages, metadata) and answers
/// "ok" while nothing happens; the checks keep other users out, and the peer credentials of each
/// connection (<see cref="ControlClient"/>, <see cref="ControlServer"/>) catch what the checks cannot.
/// </para>
/// </summary>
public static class ControlPaths
{
    /// <summary>The environment variable that names the runtime directory explicitly.</summary>
    public const string OverrideVariable = "AGENTFS_RUNTIME_DIR";

    private const uint ModeTypeMask = 0xF000, ModeDirectory = 0x4000, ModeSymlink = 0xA000;
    private const uint GroupOrOtherWrite = 0x12, Sticky = 0x200; // 0022, 01000

    /// <summary>
    /// The runtime directory of this process, in this order: $AGENTFS_RUNTIME_DIR; $XDG_RUNTIME_DIR/agentfs
    /// when $XDG_RUNTIME_DIR is a private directory of this user; /run/agentfs for root; /tmp/agentfs-UID.
    /// Only the path: <see cref="PrepareRuntimeDirectory"/> creates and checks it.
    /// </summary>
    public static string ChooseRuntimeDirectory() => Choose(Environment.GetEnvironmentVariable, LibC.geteuid());

    internal static string Choose(Func<string, string?> environment, uint euid)
    {
        if (Explicit(environment) is { } explicitDir) return explicitDir;
        // A sudo that keeps the caller's XDG_RUNTIME_DIR points root at the user's directory: skip one that is not ours.
        if (UnderXdg(environment) is { } xdg && Problem(Path.GetDirectoryName(xdg)!, euid) == null) return xdg;
        return Fallback(euid);
    }

    // The places a runtime directory can be, written once for the holder (Choose) and its clients (CandidatesFor).

    /// <summary>$AGENTFS_RUNTIME_DIR, when set: the only place then.</summary>
    private static string? Explicit(Func<string, string?> environment) =>
        environment(OverrideVariable) is { Length: > 0 } dir ? Path.GetFullPath(dir) : null;

    /// <summary>$XDG_RUNTIME_DIR/agentfs, when $XDG_RUNTIME_DIR is an absolute path.</summary>
    private static string? UnderXdg(Func<string, string?> environment) =>
        environment("XDG_RUNTIME_DIR") is { Length: > 0 } xdg && Path.IsPathRooted(xdg) ? Path.Combine(Path.GetFullPath(xdg), "agentfs") : null;

    /// <summary>Where systemd puts $XDG_RUNTIME_DIR for a user, with our directory in it: a client whose environment
    /// lacks the variable (sudo, cron) still finds a holder that had it.</summary>
    private static string UnderRunUser(uint uid) => $"/run/user/{uid}/agentfs";

    /// <summary>Where a holder without a private $XDG_RUNTIME_DIR listens: /run/agentfs for root, /tmp/agentfs-UID.</summary>
    private static string Fallback(uint uid) => uid == 0 ? "/run/agentfs" : TmpPlace(uid);

    private static string TmpPlace(uint uid) => $"/tmp/agentfs-{uid}";

    /// <summary>The runtime directory of this process, created 0700 when missing; throws (one line naming the
    /// directory and what to do) when it is not a private directory of this user.</summary>
    public static string PrepareRuntimeDirectory() => Prepare(ChooseRuntimeDirectory(), LibC.geteuid());

    /// <summary>The runtime directory of this process when it exists (null when not); throws when it is not a
    /// private directory of this user.</summary>
    public static string? ExistingRuntimeDirectory()
    {
        string dir = ChooseRuntimeDirectory();
        if (!Exists(dir)) return null;
        Verify(dir, LibC.geteuid());
        return dir;
    }

    /// <summary>Where this process listens for control requests for a branch (creates the runtime directory).</summary>
    public static string SocketFor(string storeId, string branch) => Path.Combine(PrepareRuntimeDirectory(), SocketName(storeId, branch));

    internal static string SocketName(string storeId, string branch)
    {
        string h = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(branch)))[..12].ToLowerInvariant();
        return $"ctl-{storeId}-{h}.sock";
    }

    /// <summary>Creates the directory 0700 when missing (parents too), then checks it belongs to <paramref name="owner"/> alone.</summary>
    internal static string Prepare(string dir, uint owner)
    {
        if (!Exists(dir))
        {
            try { Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new AgentFsException(Errno.EACCES, $"cannot create the runtime directory {dir} ({e.Message}); set {OverrideVariable} to a private directory of yours");
            }
        }
        Verify(dir, owner);
        return dir;
    }

    internal static void Verify(string dir, uint owner)
    {
        if (Problem(dir, owner) is { } problem)
            throw new AgentFsException(Errno.EACCES,
                $"runtime directory {dir} {problem}; another user could intercept agentfs control requests there: remove it, or set {OverrideVariable} to a private directory of yours");
    }

    /// <summary>
    /// Why <paramref name="dir"/> must not be used as a runtime directory of <paramref name="owner"/>, or null
    /// when it may: it and every ancestor are checked without following symlinks.
    /// </summary>
    internal static string? Problem(string dir, uint owner)
    {
        if (!TryLstat(dir, out uint mode, out uint uid)) return "does not exist";
        if ((mode & ModeTypeMask) == ModeSymlink) return "is a symbolic link, not a directory";
        if ((mode & ModeTypeMask) != ModeDirectory) return "is not a directory";
        if (uid != owner) return $"is owned by uid {uid}, not by uid {owner}";
        if ((mode & GroupOrOtherWrite) != 0) return $"is writable by group or others (mode {Convert.ToString(mode & 0xFFF, 8)})";
        for (string? parent = Path.GetDirectoryName(dir); parent != null; parent = Path.GetDirectoryName(parent))
        {
            // A parent that someone else can change lets them move our directory away and put theirs in its place.
            if (!TryLstat(parent, out uint pmode, out uint puid)) return $"is below {parent}, which cannot be examined";
            if ((pmode & ModeTypeMask) != ModeDirectory) return $"is below {parent}, which is not a directory";
            if (puid != 0 && puid != owner && puid != s_rootSeenAs) return $"is below {parent}, which is owned by uid {puid}";
            if ((pmode & GroupOrOtherWrite) != 0 && (pmode & Sticky) == 0)
                return $"is below {parent}, which others can write (mode {Convert.ToString(pmode & 0xFFF, 8)})";
        }
        return null;
    }

    /// <summary>
    /// The uid root's files show in this process's user namespace when it does not map root (inside agentfs run
    /// without root: the overflow uid, 65534), else null. An ancestor owned by it is accepted like one of root's:
    /// it cannot be told from another unmapped owner, and the server's peer credentials are checked anyway.
    /// </summary>
    private static readonly uint? s_rootSeenAs = RootSeenAs();

    private static uint? RootSeenAs()
    {
        // "/" is root's: when it shows as the overflow uid, this namespace does not map root.
        if (!TryLstat("/", out _, out uint rootUid) || rootUid == 0) return null;
        try { return uint.Parse(File.ReadAllText("/proc/sys/kernel/overflowuid").Trim()) == rootUid ? rootUid : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return null; }
    }

    private static bool Exists(string path) => TryLstat(path, out _, out _);

    private static unsafe bool TryLstat(string path, out uint mode, out uint uid)
    {
        byte[] z = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, z);
        byte* buf = stackalloc byte[256];
        int rc;
        fixed (byte* p = z)
            rc = LibC.statx(LibC.AT_FDCWD, p, LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_BASIC_STATS, buf);
        // struct statx: stx_uid at offset 20, stx_mode (16 bits) at 28.
        uid = rc == 0 ? *(uint*)(buf + 20) : 0;
        mode = rc == 0 ? *(ushort*)(buf + 28) : 0u;
        return rc == 0;
    }

    /// <summary>
    /// The runtime directories where a holder running as <paramref name="holderUid"/> may listen, in the order
    /// a client looks: $AGENTFS_RUNTIME_DIR alone when set; else $XDG_RUNTIME_DIR/agentfs (the client's own,
    /// when the holder is the same user), /run/user/UID/agentfs, /run/agentfs (root), /tmp/agentfs-UID.
    /// </summary>
    internal static IReadOnlyList<string> CandidatesFor(uint holderUid, Func<string, string?> environment, uint euid)
    {
        if (Explicit(environment) is { } explicitDir) return [explicitDir];
        var list = new List<string>(4);
        if (holderUid == euid && UnderXdg(environment) is { } xdg) list.Add(xdg);
        foreach (string place in new[] { UnderRunUser(holderUid), Fallback(holderUid), TmpPlace(holderUid) })
            if (!list.Contains(place)) list.Add(place);
        return list;
    }
}
