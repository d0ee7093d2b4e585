namespace AgentFs.Control;

/// <summary>
/// Inside <c>agentfs run</c>'s sandbox, the process that holds the branch lives in the host's PID namespace, so
/// the lease's pid is not visible (kill(pid, 0) fails) and the branch would look free. <c>agentfs run</c> says
/// who holds it in AGENTFS_SANDBOX ("PID STORE_ID BRANCH"); the control socket (the only one bound into the
/// sandbox) is then the way to it. Outside a sandbox the variable is absent and this finds nothing.
/// </summary>
internal static class SandboxHolder
{
    public const string Variable = "AGENTFS_SANDBOX";

    /// <summary>"STORE_ID PATH": inside the sandbox the session covers the base directory's own path, so the base
    /// is bound read-only at PATH too (diff and patch read it).</summary>
    public const string BaseVariable = "AGENTFS_SANDBOX_BASE";

    /// <summary>Where this process sees the base directory of store <paramref name="storeId"/>, when it runs in a
    /// sandbox of that store; else null (the base is at its own path).</summary>
    public static string? BaseSeenAt(string storeId)
    {
        if (Environment.GetEnvironmentVariable(BaseVariable) is not { Length: > 0 } value) return null;
        string[] parts = value.Split(' ', 2);
        return parts.Length == 2 && parts[0] == storeId && Directory.Exists(parts[1]) ? parts[1] : null;
    }

    /// <summary>The holder's pid (in the host's namespace) when this process runs in the sandbox of that branch.</summary>
    public static int? Find(string storeId, string branch)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } value) return null;
        string[] parts = value.Split(' ', 3);
        if (parts.Length != 3 || parts[1] != storeId || parts[2] != branch || !int.TryParse(parts[0], out int pid)) return null;
        return File.Exists(ControlPaths.SocketFor(storeId, branch)) ? pid : null;
    }
}
