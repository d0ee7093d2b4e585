namespace AgentFs;

/// <summary>A branch of a session's git repository and how many commits it has that the base's repository does not.</summary>
public sealed record GitBranchChanges(string Name, string Commit, int NewCommits);

/// <summary>
/// One git repository of a session (a directory with a <c>.git</c> directory) and what the agent did in it: the
/// commits reachable from the session's refs and not from the base's (per branch, and on HEAD), and whether the
/// working tree holds changes not committed on top of HEAD.
/// </summary>
/// <param name="Path">The repository's directory, relative to the session's root ("" for the root itself).</param>
/// <param name="HeadBranch">The branch HEAD names (null when HEAD is detached).</param>
/// <param name="Head">The commit HEAD points at in the session (null for an unborn branch).</param>
/// <param name="NewCommits">Commits on HEAD that the base's repository does not have.</param>
/// <param name="Branches">Branches (refs/heads) with commits the base does not have.</param>
/// <param name="HasUncommittedChanges">The working tree differs from HEAD (changes not committed, ignored files left
/// out): a final patch carries them.</param>
public sealed record GitRepositoryChanges(string Path, string? HeadBranch, string? Head, int NewCommits,
    IReadOnlyList<GitBranchChanges> Branches, bool HasUncommittedChanges)
{
    /// <summary>The repository's directory for messages: "." for the root.</summary>
    public string DisplayPath => Path.Length == 0 ? "." : Path;
}

/// <summary>Where <see cref="AgentStore.Apply(string, string, ApplyOptions, IProgress{VersionProgress}?, CancellationToken)"/> put
/// the agent's commits of one repository: the target repository, the branch made, its commit and the number of commits brought in.</summary>
public sealed record GitBranchApplied(string Repository, string SourceRef, string Branch, string Commit, int NewCommits);
