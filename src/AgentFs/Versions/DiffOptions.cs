namespace AgentFs;

/// <summary>How <see cref="AgentStore.Diff(string, string, DiffOptions)"/> and <see cref="AgentStore.DiffStat(string, string, DiffOptions)"/> list changes.</summary>
public sealed class DiffOptions
{
    /// <summary>
    /// Keep the changes inside version-control internals (<c>.git</c> directories and gitfiles, <c>.hg</c>, <c>.jj</c>).
    /// Off by default: they are the repository's own bookkeeping (index, refs, objects), which git users move as
    /// commits (<see cref="AgentStore.WriteGitCommits"/>, <see cref="AgentStore.WriteGitBundle"/>), not as files.
    /// </summary>
    public bool IncludeVcs { get; init; }
}
