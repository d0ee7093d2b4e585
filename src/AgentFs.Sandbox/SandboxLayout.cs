namespace AgentFs.Sandbox;

/// <summary>
/// What <see cref="SandboxPolicy"/> needs besides the options, worked out by <see cref="Sandbox"/>: absolute
/// paths, the session's control socket, the descriptors bwrap reads its data from, and whether agentfs run is
/// unprivileged (not root: bwrap then makes a user namespace of its own).
/// </summary>
internal sealed record SandboxLayout(
    string MountPath,
    string StorePath,
    string StoreId,
    string Branch,
    string WorkingDirectory,
    string BaseStage,
    string? ControlSocket,
    int SeccompFd,
    int? AgentfsScriptFd,
    IReadOnlyList<string> WritablePaths,
    IReadOnlyList<string> ReadOnlyPaths,
    IReadOnlyList<(string Path, bool IsDirectory)> HiddenPaths,
    bool Unprivileged = false)
{
    /// <summary>With --net allow=: the proxy's port on the sandbox's 127.0.0.1.</summary>
    public int ProxyPort { get; init; }

    /// <summary>With the agentfs command inside: the directory of its program on the host, bound read-only at
    /// <see cref="SandboxPolicy.ProgramDirectoryInside"/> (it may lie in /tmp or /run, which are private inside).</summary>
    public string? ProgramDirectory { get; init; }
}
