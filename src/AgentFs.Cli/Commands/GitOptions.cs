using System.CommandLine;

namespace AgentFs.Cli.Commands;

/// <summary>What the commands that export or apply git commits (patch --commits, bundle, apply) spell the same way.</summary>
internal static class GitOptions
{
    public static Option<string?> Repository() => new("--repo")
    {
        Description = "The git repository of the session, as a directory relative to its root (default: the one the change touches)",
        HelpName = "PATH",
    };

    public static RepositoryJson ToJson(GitRepositoryChanges r, string? file) => new(r.DisplayPath, r.HeadBranch, r.Head, r.NewCommits,
        r.Branches.Select(b => new BranchJson(b.Name, b.Commit, b.NewCommits)).ToList(), r.HasUncommittedChanges, file);

    /// <summary>A session repository: path ("." for the root), HEAD's branch and commit, commits on HEAD the base lacks, branches
    /// with new commits, whether uncommitted changes exist, and the file written.</summary>
    internal sealed record RepositoryJson(string Repository, string? HeadBranch, string? Head, int NewCommits, IReadOnlyList<BranchJson> Branches,
        bool UncommittedChanges, string? File);

    internal sealed record BranchJson(string Name, string Commit, int NewCommits);
}
