using AgentFs.Fuse;
using AgentFs.Sandbox;

namespace AgentFs.Cli.Hooks;

/// <summary>
/// Which session a hook checkpoints: the store given at install (<c>--store</c>, <c>--branch</c>); else, inside
/// <c>agentfs run</c>, the sandbox's own ($AGENTFS_STORE and $AGENTFS_BRANCH, which run sets); else the
/// mounted or sandboxed session whose path contains the working directory the harness reports (as
/// <c>agentfs status</c> lists them; the deepest when they nest).
/// </summary>
internal sealed record HookSession(string Store, string Branch, string How)
{
    public static HookSession? Find(string? store, string? branch, string cwd)
    {
        if (store != null)
            return new HookSession(Path.GetFullPath(store), branch ?? BranchAt(Path.GetFullPath(store), cwd) ?? "main", "the store given at install");
        if (Environment.GetEnvironmentVariable("AGENTFS_STORE") is { Length: > 0 } inside)
            return new HookSession(inside, branch ?? (Environment.GetEnvironmentVariable("AGENTFS_BRANCH") is { Length: > 0 } b ? b : "main"),
                "$AGENTFS_STORE of agentfs run");
        HookSession? best = null;
        int depth = -1;
        foreach (var (s, br, path, what) in Sessions())
            if (Contains(path, cwd) && path.Length > depth && (branch == null || branch == br))
            {
                best = new HookSession(s, br, $"the {what} at {path}");
                depth = path.Length;
            }
        return best;
    }

    /// <summary>The branch under which the given store is mounted or sandboxed at the working directory, if it is.</summary>
    private static string? BranchAt(string store, string cwd)
    {
        string? branch = null;
        int depth = -1;
        foreach (var (s, br, path, _) in Sessions())
            if (s == store && Contains(path, cwd) && path.Length > depth)
            {
                branch = br;
                depth = path.Length;
            }
        return branch;
    }

    private static IEnumerable<(string Store, string Branch, string Path, string What)> Sessions()
    {
        IReadOnlyList<MountRecord> mounts;
        try { mounts = AgentMount.List(); }
        catch (AgentFsException) { mounts = []; }
        foreach (var m in mounts)
            if (!m.ReadOnly) yield return (m.Store, m.Branch, m.MountPoint, "mount");
        foreach (var s in SandboxRecord.List()) yield return (s.Store, s.Branch, s.MountPath, "sandbox");
    }

    private static bool Contains(string dir, string path)
    {
        dir = dir.TrimEnd('/');
        return path == dir || path.StartsWith(dir + "/", StringComparison.Ordinal) || dir.Length == 0;
    }
}
