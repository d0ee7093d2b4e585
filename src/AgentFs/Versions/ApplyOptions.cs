namespace AgentFs;

/// <summary>How <see cref="AgentStore.Apply(string, string, ApplyOptions, IProgress{VersionProgress}?, CancellationToken)"/> writes.</summary>
public sealed class ApplyOptions
{
    /// <summary>Check and plan only; write nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>
    /// Write the set-user-id, set-group-id and sticky bits the branch has. Off by default: whoever ran the
    /// agent could set them on its own files, and an apply run by root (or any other user) would turn them
    /// into that user's privileges on the agent's content. Without it those bits are left out and listed in
    /// <see cref="ApplyResult.DroppedBits"/> (bits a path already had in the target stay on a mode-only change).
    /// </summary>
    public bool KeepSpecialBits { get; init; }

    /// <summary>
    /// Copy the changes inside version-control internals (<c>.git</c>, <c>.hg</c>, <c>.jj</c>) file by file, as for
    /// any directory. Off by default: the working-tree changes are applied, and the agent's commits of each git
    /// repository go into the target's repository at the same path as a branch, fetched from a bundle.
    /// </summary>
    public bool IncludeVcs { get; init; }

    /// <summary>The branch the commits on the session's HEAD go to in each target repository; null: every session
    /// branch with new commits B becomes <c>agentfs/B</c> (a detached HEAD <c>agentfs/detached-head</c>).</summary>
    public string? GitBranch { get; init; }

    /// <summary>Make the branch holding the session's HEAD the target repository's HEAD (its index reset to it; the
    /// files are the applied working tree). Off by default: the target's HEAD, index and current branch stay.</summary>
    public bool Checkout { get; init; }
}
