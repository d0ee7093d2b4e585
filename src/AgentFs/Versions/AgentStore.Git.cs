using AgentFs.Versions;

namespace AgentFs;

public sealed partial class AgentStore
{
    /// <summary>
    /// The git repositories of a branch (or checkpoint) that the change from the base touches, with what the agent
    /// did in each: commits reachable from the session's refs and not from the base's (per branch and on HEAD),
    /// and whether the working tree holds uncommitted changes. Runs the <c>git</c> command on a copy of each
    /// repository's .git directory (see <see cref="GitSession"/>); the store and the base are only read.
    /// </summary>
    public IReadOnlyList<GitRepositoryChanges> GitRepositories(string reference = "main")
    {
        var result = new List<GitRepositoryChanges>();
        ForEachGitRepository(reference, null, all: true, g =>
        {
            result.Add(g.Describe());
            return true;
        });
        return result;
    }

    /// <summary>
    /// Writes the agent's commits of one git repository of a branch as <c>git format-patch --stdout</c> writes them: an
    /// mbox that <c>git am</c> applies to a clone of the base's repository, each commit with its message, author and
    /// date; the working tree's uncommitted changes (if any) follow as one more patch, authored by AgentFs. The
    /// commits are those on the session's HEAD that the base's refs do not reach (merge commits are left out, as
    /// format-patch does). Refused (EINVAL) when the repository's history does not grow out of the base's.
    /// </summary>
    /// <param name="repository">The repository's directory relative to the session root ("" or "." for the root);
    /// null: the one repository the change touches (refused when there are several).</param>
    public GitRepositoryChanges WriteGitCommits(string reference, Stream output, string? repository = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        GitRepositoryChanges? done = null;
        ForEachGitRepository(reference, repository, all: false, g =>
        {
            g.CheckHistoryGrowsFromBase(Path);
            g.WriteFormatPatch(output);
            done = g.Describe();
            return false;
        });
        return done!;
    }

    /// <summary>
    /// Writes the agent's commits of one git repository of a branch as a git bundle at <paramref name="outputPath"/>
    /// (a new file: an existing path is refused): the branches with new commits and HEAD, with the base's commits as
    /// prerequisites, so that <c>git fetch OUT.bundle</c> in a clone of the base (or any repository that has the
    /// base's commits) brings them in. The uncommitted changes are not in a bundle (see <see cref="WriteGitCommits"/>).
    /// </summary>
    public GitRepositoryChanges WriteGitBundle(string reference, string outputPath, string? repository = null)
    {
        string target = FullHostPath(outputPath, "bundle path");
        if (File.Exists(target) || Directory.Exists(target) || new FileInfo(target).LinkTarget != null)
            throw new AgentFsException(Errno.EEXIST, $"bundle {target} already exists; choose a new path (a bundle is never written over a file)");
        string? dir = System.IO.Path.GetDirectoryName(target);
        if (dir == null || !Directory.Exists(dir))
            throw new AgentFsException(Errno.ENOENT, $"cannot write bundle {target}: directory {dir} does not exist");
        GitRepositoryChanges? done = null;
        ForEachGitRepository(reference, repository, all: false, g =>
        {
            g.CheckHistoryGrowsFromBase(Path);
            string tmp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
            try
            {
                g.WriteBundle(tmp);
                File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                File.Move(tmp, target, overwrite: false);
            }
            finally
            {
                try { File.Delete(tmp); } catch (IOException) { }
            }
            done = g.Describe();
            return false;
        });
        return done!;
    }

    /// <summary>Opens each repository the change touches (or the one named) and hands it to <paramref name="visit"/>
    /// until it returns false.</summary>
    /// <param name="all">Visit every repository; false: there must be one (or <paramref name="repository"/> names it).</param>
    private void ForEachGitRepository(string reference, string? repository, bool all, Func<GitSession, bool> visit)
    {
        if (reference == "base")
            throw new AgentFsException(Errno.EINVAL, "the base has no commits of the agent's; name a branch or checkpoint");
        using var session = OpenDiff("base", reference, "export git commits", includeVcs: true);
        var workTreeChanges = session.Changes.Where(c => !VcsPaths.IsInternal(c.RawPath)).ToList();
        foreach (var repo in GitRepositoryPaths(session, repository, all))
        {
            using var g = GitSession.Open(session.From.Fs, session.To.Fs, repo, workTreeChanges);
            if (!visit(g)) return;
        }
    }

    /// <summary>The repositories (directories relative to the root) the change of a session (VCS internals included) touches.</summary>
    internal List<string> GitRepositoryPaths(DiffSession session, string? repository, bool all)
    {
        var repositories = GitSession.FindRepositories(session.To.Fs, session.Changes);
        string? wanted = repository == null ? null : repository.Trim('/') is "." ? "" : repository.Trim('/');
        if (wanted != null)
        {
            if (!repositories.Contains(wanted))
            {
                string gitDir = "/" + (wanted.Length == 0 ? ".git" : wanted + "/.git");
                bool isRepo = session.To.Fs.Exists(gitDir) && session.To.Fs.GetAttributes(gitDir).IsDirectory;
                if (!isRepo)
                    throw new AgentFsException(Errno.ENOENT, $"{(wanted.Length == 0 ? "the root" : wanted)} of {session.To.State} in store {Path} is not a git repository" +
                        (repositories.Count > 0 ? $"; repositories with changes: {string.Join(", ", repositories.Select(r => r.Length == 0 ? "." : r))}" : ""));
            }
            repositories = [wanted];
        }
        else if (!all && repositories.Count > 1)
            throw new AgentFsException(Errno.EINVAL, $"{session.To.State} in store {Path} changed {repositories.Count} git repositories " +
                $"({string.Join(", ", repositories.Select(r => r.Length == 0 ? "." : r))}); name one with --repo PATH");
        if (!all && repositories.Count == 0)
            throw new AgentFsException(Errno.ENOENT, $"{session.To.State} in store {Path} changed no git repository (no .git directory above any changed path)");
        return repositories;
    }
}
