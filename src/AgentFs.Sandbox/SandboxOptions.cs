namespace AgentFs.Sandbox;

/// <summary>What <see cref="Sandbox.Start"/> runs, on which branch, and what the sandbox may touch besides it.</summary>
public sealed class SandboxOptions
{
    /// <summary>The store file.</summary>
    public required string StorePath { get; init; }

    /// <summary>The store's tuning (group commit, WAL), as <see cref="AgentStore.Open"/> takes it.</summary>
    public StoreOptions Store { get; init; } = new();

    /// <summary>The branch the sandbox works on.</summary>
    public string Branch { get; init; } = "main";

    /// <summary>Where the branch appears inside the sandbox (an existing directory); null: the store's base
    /// directory path, so the project is where its tools and caches expect it.</summary>
    public string? MountPath { get; init; }

    /// <summary>The command and its arguments (looked up in PATH inside the sandbox, like a shell does).</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Host paths made writable inside (each must exist, and lie outside the mount path and the store).</summary>
    public IReadOnlyList<string> WritablePaths { get; init; } = [];

    /// <summary>Paths kept read-only, also inside a writable one or the session.</summary>
    public IReadOnlyList<string> ReadOnlyPaths { get; init; } = [];

    /// <summary>Paths replaced by an empty directory (or an empty file, for a file).</summary>
    public IReadOnlyList<string> HiddenPaths { get; init; } = [];

    /// <summary>What the sandbox may reach on the network: nothing (the default), the host's network, or an allow-list.</summary>
    public NetworkMode Network { get; init; } = NetworkMode.None;

    /// <summary>Who the command is inside (<c>--user</c>, see <see cref="SandboxUser"/>); null: the caller's own uid.</summary>
    public SandboxUser? User { get; init; }

    /// <summary>With <see cref="NetworkMode.Allow"/>: where the proxy may connect (<c>--net allow=LIST</c>).</summary>
    public NetworkAllowList? AllowedDestinations { get; init; }

    /// <summary>With <see cref="NetworkMode.Allow"/>: told of each connection the sandbox asked for, allowed or
    /// refused (called on pool threads, concurrently).</summary>
    public Action<NetworkAttempt>? NetworkLog { get; init; }

    /// <summary>Variables set inside (after the caller's environment is passed through).</summary>
    public IReadOnlyDictionary<string, string> SetEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>Variables removed inside.</summary>
    public IReadOnlyList<string> UnsetEnvironment { get; init; } = [];

    /// <summary>The directory the command starts in, as the caller sees it; kept when it lies inside the mount
    /// path, else the mount path. Null: the current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>How to run <c>agentfs</c> itself (program and leading arguments, e.g. dotnet and the dll), so the
    /// command is on PATH inside and can take checkpoints. Null: no <c>agentfs</c> inside.</summary>
    public IReadOnlyList<string>? AgentfsCommand { get; init; }

    /// <summary>How long processes get between SIGTERM and SIGKILL when the sandbox is stopped.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Log of the FUSE driver (errors it met); null: none.</summary>
    public Action<string>? Log { get; init; }
}
