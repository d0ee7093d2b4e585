using System.Runtime.InteropServices;

namespace AgentFs.Sandbox;

/// <summary>
/// Who the command is inside the sandbox with <c>--user</c>: a uid and gid seen inside only, through a user
/// namespace that maps them to the user who started <c>agentfs run</c>. Toward the session and the host, the
/// command acts as that user (files it creates are that user's); it gains nothing. It is for programs that
/// refuse to run as root (PostgreSQL: "root execution of the PostgreSQL server is not permitted"), since the
/// sandbox's root has no capabilities to change its uid itself (setpriv, runuser and su fail with EPERM).
/// </summary>
public sealed partial record SandboxUser(uint Uid, uint Gid)
{
    /// <summary>Parses NAME, UID, NAME:GROUP or UID:GID; names are looked up on the host (getpwnam/getgrnam).</summary>
    public static SandboxUser Parse(string spec)
    {
        int colon = spec.IndexOf(':');
        string user = colon < 0 ? spec : spec[..colon];
        string? group = colon < 0 ? null : spec[(colon + 1)..];
        uint uid, gid;
        if (uint.TryParse(user, out uid)) gid = uid;
        else if (!Passwd.Lookup(user, out uid, out gid))
            throw new AgentFsException(Errno.EINVAL, $"--user {spec}: no user '{user}' on this machine; give a user name or a number (UID[:GID])");
        if (group != null && !uint.TryParse(group, out gid) && !Passwd.LookupGroup(group, out gid))
            throw new AgentFsException(Errno.EINVAL, $"--user {spec}: no group '{group}' on this machine; give a group name or a number");
        if (uid == uint.MaxValue || gid == uint.MaxValue)
            throw new AgentFsException(Errno.EINVAL, $"--user {spec}: not a usable uid or gid");
        return new SandboxUser(uid, gid);
    }

    /// <summary>The C library's user and group database (NSS), as id(1) sees it.</summary>
    private static partial class Passwd
    {
        [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
        private static partial nint getpwnam(string name);

        [LibraryImport("libc", EntryPoint = "getgrnam", StringMarshalling = StringMarshalling.Utf8)]
        private static partial nint getgrnam(string name);

        // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; ... }
        // struct group  { char *gr_name; char *gr_passwd; gid_t gr_gid; ... }
        private static readonly int s_idOffset = 2 * IntPtr.Size;

        public static bool Lookup(string name, out uint uid, out uint gid)
        {
            uid = gid = 0;
            nint pw = getpwnam(name);
            if (pw == 0) return false;
            uid = (uint)Marshal.ReadInt32(pw, s_idOffset);
            gid = (uint)Marshal.ReadInt32(pw, s_idOffset + 4);
            return true;
        }

        public static bool LookupGroup(string name, out uint gid)
        {
            gid = 0;
            nint gr = getgrnam(name);
            if (gr == 0) return false;
            gid = (uint)Marshal.ReadInt32(gr, s_idOffset);
            return true;
        }
    }
}
