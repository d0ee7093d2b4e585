using AgentFs.Native;
using AgentFs.Sandbox.Native;

namespace AgentFs.Sandbox;

/// <summary>
/// Unix sockets of the host that the sandbox must not reach. connect() to a socket file ignores a read-only
/// mount, so a service listening on a socket in /var/lib, /srv or a home directory (a database, an agent of the
/// user's, a container engine) would take requests from the sandbox as from any local client, and act outside
/// it. /run and /tmp are replaced in the sandbox already; the rest is found here, in /proc/net/unix (every
/// socket bound to a path in this network namespace, with that path), and <see cref="SandboxPolicy"/> binds
/// /dev/null over each: connect() then fails with ECONNREFUSED.
///
/// Limits, stated: a socket bound after the sandbox started, or bound in another network namespace (a
/// container), is not in the list and stays reachable; name its path with --hide. Landlock cannot close this
/// (its file rights do not cover connect(); its scoping covers abstract sockets only, and the kernels that have
/// it have no pathname-socket right yet). Sockets below a --bind path stay reachable: the user opened that path.
/// </summary>
internal static class HostUnixSockets
{
    /// <summary>Where the sandbox has its own tree (fresh tmpfs or devices), so host sockets there are not seen.</summary>
    private static readonly string[] ReplacedInside = ["/run", "/tmp", "/dev", "/proc", "/sys"];

    /// <summary>The host sockets to cover, resolved (symlinks followed), outside the given trees.</summary>
    public static List<string> ToHide(IEnumerable<string> keepUnder)
    {
        var keep = ReplacedInside.Concat(keepUnder).ToList();
        var bound = new HashSet<string>(StringComparer.Ordinal);    // paths as /proc/net/unix names them
        var resolved = new HashSet<string>(StringComparer.Ordinal); // and where they lead
        var hide = new List<string>();
        IEnumerable<string> lines;
        try { lines = File.ReadLines("/proc/net/unix").Skip(1).ToList(); }
        catch (IOException) { return hide; }
        foreach (string line in lines)
        {
            // "Num RefCount Protocol Flags Type St Inode Path": the path is the rest after the 7th field.
            string[] fields = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 8 || !fields[7].StartsWith('/') || !bound.Add(fields[7])) continue;
            string? real = SandboxCalls.RealPath(fields[7]);
            if (real == null || !resolved.Add(real) || keep.Any(k => Sandbox.Under(real, k))) continue;
            if (SandboxCalls.FileType(real) != LibC.S_IFSOCK) continue;
            hide.Add(real);
        }
        return hide;
    }
}
