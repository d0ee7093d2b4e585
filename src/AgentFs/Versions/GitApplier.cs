namespace AgentFs.Versions;

/// <summary>
/// The git half of an apply into a directory that holds git repositories: the agent's commits of each session
/// repository go into the target's repository at the same path as a branch (<c>agentfs/BRANCH</c>, or the name
/// the caller gives), through git's own transport (a bundle, fetched), so it works when the target has moved on
/// since the base was taken. The target's HEAD, index, current branch and other refs are left alone (unless
/// <see cref="ApplyOptions.Checkout"/>). Everything is checked before anything is written: the target repository
/// exists, has the commits the agent's build on (<c>git bundle verify</c>), and has no branch of the name to make.
/// </summary>
internal sealed class GitApplier : IDisposable
{
    private sealed record Fetch(string TargetRepo, string Bundle, List<(string Source, string Branch, string Commit, int NewCommits)> Refs, string Display,
        string? HeadBranch);

    private readonly List<Fetch> _fetches = new();
    private readonly string _temp;
    private readonly bool _checkout;

    private GitApplier(string temp, bool checkout)
    {
        _temp = temp;
        _checkout = checkout;
    }

    /// <summary>The branches the apply makes (or would make, in a dry run).</summary>
    public List<GitBranchApplied> Branches { get; } = new();

    public static GitApplier Prepare(AgentStore store, DiffSession unfiltered, List<string> repositories, IReadOnlyList<FileChange> workTreeChanges,
        string targetRoot, ApplyOptions options)
    {
        var applier = new GitApplier(Directory.CreateTempSubdirectory("agentfs-apply-git-").FullName, options.Checkout);
        try
        {
            foreach (var repo in repositories)
            {
                using var g = GitSession.Open(unfiltered.From.Fs, unfiltered.To.Fs, repo, workTreeChanges);
                applier.PrepareOne(store, g, targetRoot, options);
            }
            return applier;
        }
        catch
        {
            applier.Dispose();
            throw;
        }
    }

    private void PrepareOne(AgentStore store, GitSession g, string targetRoot, ApplyOptions options)
    {
        if (g.NotARepository != null || (g.NewCommits == 0 && g.Branches.Count == 0)) return;
        g.CheckHistoryGrowsFromBase(store.Path);
        string display = g.RepoPath.Length == 0 ? "." : g.RepoPath;
        string targetRepo = g.RepoPath.Length == 0 ? targetRoot : Path.Combine(targetRoot, g.RepoPath);
        int commits = Math.Max(g.NewCommits, g.Branches.Count == 0 ? 0 : g.Branches.Max(b => b.NewCommits));
        var top = Directory.Exists(targetRepo) ? GitRunner.Run(targetRepo, ["rev-parse", "--show-toplevel"]) : default;
        if (top.Stdout == null || top.ExitCode != 0 || Path.GetFullPath(top.Text.Trim()) != ResolvedPath(targetRepo))
            throw new AgentFsException(Errno.EINVAL,
                $"target {targetRepo} is not a git repository, but repository {display} of the session has {commits} commit{(commits == 1 ? "" : "s")} the base does not have; " +
                "apply into a clone of the base's repository, or pass --include-vcs to copy the .git files as they are");

        var refs = new List<(string Source, string Branch, string Commit, int NewCommits)>();
        if (options.GitBranch != null)
        {
            if (g.NewCommits == 0)
                throw new AgentFsException(Errno.EINVAL, $"HEAD of repository {display} has no commits the base does not have (branches that do: " +
                    $"{string.Join(", ", g.Branches.Select(b => b.Name))}); apply without --git-branch to bring each in as agentfs/BRANCH");
            refs.Add((g.HeadBranch != null ? "refs/heads/" + g.HeadBranch : "HEAD", options.GitBranch, g.Head!, g.NewCommits));
        }
        else
        {
            foreach (var b in g.Branches) refs.Add(("refs/heads/" + b.Name, "agentfs/" + b.Name, b.Commit, b.NewCommits));
            if (g.HeadBranch == null && g.NewCommits > 0) refs.Add(("HEAD", "agentfs/detached-head", g.Head!, g.NewCommits));
        }
        foreach (var r in refs)
        {
            if (GitRunner.Run(targetRepo, ["check-ref-format", "--branch", r.Branch]).ExitCode != 0)
                throw new AgentFsException(Errno.EINVAL, $"'{r.Branch}' is not a valid git branch name; pass another with --git-branch");
            var existing = GitRunner.Run(targetRepo, ["rev-parse", "--verify", "-q", "refs/heads/" + r.Branch]);
            if (existing.ExitCode == 0)
                throw new AgentFsException(Errno.EEXIST, $"branch {r.Branch} already exists in the git repository {targetRepo} " +
                    $"(at {existing.Text.Trim()[..Math.Min(12, existing.Text.Trim().Length)]}); nothing was written: pass --git-branch NAME for another name, or delete it");
        }
        string bundle = Path.Combine(_temp, $"{_fetches.Count}.bundle");
        g.WriteBundle(bundle);
        var verify = GitRunner.Run(targetRepo, ["bundle", "verify", "-q", bundle]);
        if (verify.ExitCode != 0)
            throw new AgentFsException(Errno.ESTALE, $"the git repository {targetRepo} lacks commits that the agent's commits of repository {display} build on " +
                $"({verify.FirstErrorLine}); nothing was written: apply into a clone of the base's repository");
        // The branch that holds the session's HEAD, which --checkout makes the target's HEAD.
        string? headBranch = options.GitBranch
            ?? (g.HeadBranch == null ? refs.FirstOrDefault(r => r.Source == "HEAD").Branch
                : refs.FirstOrDefault(r => r.Source == "refs/heads/" + g.HeadBranch).Branch);
        _fetches.Add(new Fetch(targetRepo, bundle, refs, display, headBranch));
        foreach (var r in refs) Branches.Add(new GitBranchApplied(targetRepo, r.Source, r.Branch, r.Commit, r.NewCommits));
    }

    private static string ResolvedPath(string dir)
    {
        string full = Path.GetFullPath(dir);
        var info = new DirectoryInfo(full);
        return info.LinkTarget != null ? info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full : full;
    }

    /// <summary>Fetches each bundle into its target repository as new branches; with Checkout, checks out the branch of HEAD.</summary>
    public void Execute()
    {
        foreach (var f in _fetches)
        {
            var args = new List<string> { "-c", "fetch.fsckObjects=true", "fetch", "--no-tags", "--no-write-fetch-head", "--quiet", f.Bundle };
            foreach (var r in f.Refs) args.Add($"{r.Source}:refs/heads/{r.Branch}");
            GitRunner.Ok(f.TargetRepo, args, $"bringing the commits of repository {f.Display} into {f.TargetRepo} (the files were applied)");
            if (_checkout && f.HeadBranch != null)
            {
                // The working tree already holds the session's files (the apply wrote them): point HEAD at the agent's
                // branch and reset the index to it, leaving the files alone, so status shows the uncommitted changes.
                string what = $"checking out {f.HeadBranch} in {f.TargetRepo} (the files were applied and the branch made; run git switch yourself)";
                GitRunner.Ok(f.TargetRepo, ["symbolic-ref", "HEAD", "refs/heads/" + f.HeadBranch], what);
                GitRunner.Ok(f.TargetRepo, ["reset", "-q"], what);
            }
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_temp, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
