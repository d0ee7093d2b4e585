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

    /// <summary>
    /// The live mounts and sandboxes of the mount registry (what <c>agentfs status</c> lists), read here with a plain
    /// JSON reader: AgentMount.List and SandboxRecord.List would load the FUSE and sandbox code and, for mounts,
    /// reflection-based JSON, which cost about 300 ms of a hook that must take 50. A record whose process is gone is
    /// skipped (status removes it).
    /// </summary>
    private static IEnumerable<(string Store, string Branch, string Path, string What)> Sessions()
    {
        string? registry;
        try { registry = AgentFs.Control.ControlPaths.ExistingRuntimeDirectory(); }
        catch (AgentFsException) { registry = null; }
        if (registry == null) yield break;
        string[] files;
        try { files = Directory.GetFiles(registry); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { yield break; }
        foreach (string f in files)
        {
            bool mount = f.EndsWith(".json", StringComparison.Ordinal), sandbox = f.EndsWith(".run", StringComparison.Ordinal);
            if (!mount && !sandbox) continue;
            string? store = null, branch = null, path = null;
            int pid = 0;
            bool readOnly = false;
            try
            {
                var reader = new System.Text.Json.Utf8JsonReader(File.ReadAllBytes(f));
                if (!reader.Read() || reader.TokenType != System.Text.Json.JsonTokenType.StartObject) continue;
                while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
                {
                    string name = reader.GetString()!;
                    reader.Read();
                    switch (name)
                    {
                        case "Store" when reader.TokenType == System.Text.Json.JsonTokenType.String: store = reader.GetString(); break;
                        case "Branch" when reader.TokenType == System.Text.Json.JsonTokenType.String: branch = reader.GetString(); break;
                        case "MountPoint" or "MountPath" when reader.TokenType == System.Text.Json.JsonTokenType.String: path = reader.GetString(); break;
                        case "Pid" when reader.TokenType == System.Text.Json.JsonTokenType.Number: pid = reader.GetInt32(); break;
                        case "ReadOnly" when reader.TokenType is System.Text.Json.JsonTokenType.True: readOnly = true; break;
                        default: reader.Skip(); break;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or FormatException) { continue; }
            if (store == null || branch == null || path == null || pid <= 0 || readOnly || !Directory.Exists($"/proc/{pid}")) continue;
            yield return (store, branch, path, mount ? "mount" : "sandbox");
        }
    }

    private static bool Contains(string dir, string path)
    {
        dir = dir.TrimEnd('/');
        return path == dir || path.StartsWith(dir + "/", StringComparison.Ordinal) || dir.Length == 0;
    }
}
