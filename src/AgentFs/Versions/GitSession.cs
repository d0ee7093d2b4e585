using System.Text;

namespace AgentFs.Versions;

/// <summary>
/// One git repository of a session, taken out of the store so that the <c>git</c> command can work on it: the
/// agent's commits (reachable from the session's refs, not from the base's), a <c>git format-patch</c> series of
/// them, a bundle, and the working tree's uncommitted changes as one more commit on top of HEAD.
///
/// How the repository is reached without a mount: its <c>.git</c> directory is exported from the state into a
/// temporary directory (the state is read through the library like any other, so a branch a mount is writing is
/// read as committed), and only the working-tree files git needs for the uncommitted changes are exported beside
/// it (the paths the session changed, the paths HEAD changed, and the .gitignore files above them), never the
/// whole tree. Exporting was chosen over a read-only FUSE mount: it needs no /dev/fuse or privileges, works in
/// the library (which has no FUSE), and costs about a copy of .git (see Versions/README.md for figures).
///
/// What is not carried from the session's repository, because the agent wrote it and git would act on it:
/// its config (hooks paths, fsmonitor, filters and aliases would run commands; a minimal config with the same
/// repository format replaces it), hooks, object alternates (they could point anywhere on the host), symlinks
/// inside .git, and the index (a fresh one is built from HEAD).
/// </summary>
internal sealed class GitSession : IDisposable
{
    private readonly string _temp;
    private readonly Dictionary<string, string> _env;

    private GitSession(string temp, string relPath)
    {
        _temp = temp;
        RepoPath = relPath;
        GitDir = System.IO.Path.Combine(temp, "git");
        WorkTree = System.IO.Path.Combine(temp, "work");
        _env = new Dictionary<string, string> { ["GIT_DIR"] = GitDir };
    }

    /// <summary>The repository's directory relative to the session root ("" for the root).</summary>
    public string RepoPath { get; }
    public string GitDir { get; }
    private string WorkTree { get; }
    /// <summary>Every commit the base's repository has a ref or HEAD at (those found in the session's objects).</summary>
    public List<string> BaseTips { get; } = new();
    public bool BaseHasRepository { get; private set; }
    public string? Head { get; private set; }
    public string? HeadBranch { get; private set; }
    public int NewCommits { get; private set; }
    public List<GitBranchChanges> Branches { get; } = new();
    /// <summary>Why git does not take the session's .git directory as a repository (null: it does). Such a directory
    /// has no commits to export; exporting them is refused, apply leaves it out like any internals.</summary>
    public string? NotARepository { get; private set; }
    /// <summary>A commit on top of <see cref="Head"/> holding the working tree's uncommitted changes (null: none).</summary>
    public string? Uncommitted { get; private set; }

    public GitRepositoryChanges Describe() =>
        new(RepoPath, HeadBranch, Head, NewCommits, Branches.ToList(), Uncommitted != null);

    private string Display => RepoPath.Length == 0 ? "." : RepoPath;

    /// <summary>
    /// The repositories of a state that the change from base touches: for every changed path (version-control
    /// internals included), the nearest directory above it that holds a <c>.git</c> directory in the new state.
    /// Costs lookups in proportion to the changes times their depth.
    /// </summary>
    public static List<string> FindRepositories(AgentFileSystem state, IEnumerable<FileChange> allChanges)
    {
        var known = new Dictionary<string, bool>(StringComparer.Ordinal);
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var c in allChanges)
        {
            foreach (var raw in c.RawOldPath == null ? [c.RawPath] : new[] { c.RawPath, c.RawOldPath })
            {
                int git = VcsPaths.GitComponent(raw);
                string path = Encoding.UTF8.GetString(git >= 0 ? raw.AsSpan(0, Math.Max(0, git - 1)) : raw);
                // The directories above the path, deepest first (for a path inside .git: its repository first).
                string? dir = git >= 0 ? path : Parent(path);
                for (; dir != null; dir = Parent(dir))
                {
                    if (!known.TryGetValue(dir, out bool isRepo))
                    {
                        string gitPath = "/" + (dir.Length == 0 ? ".git" : dir + "/.git");
                        isRepo = state.Exists(gitPath) && state.GetAttributes(gitPath).IsDirectory;
                        known[dir] = isRepo;
                    }
                    if (isRepo)
                    {
                        found.Add(dir);
                        break;
                    }
                }
            }
        }
        return found.ToList();
    }

    private static string? Parent(string path)
    {
        if (path.Length == 0) return null;
        int slash = path.LastIndexOf('/');
        return slash < 0 ? "" : path[..slash];
    }

    /// <summary>Exports the repository at <paramref name="repoPath"/> of <paramref name="session"/> (and the refs of the
    /// base's repository there) and works out its new commits and uncommitted changes.</summary>
    /// <param name="workTreeChanges">The changes base to session outside version-control internals (all of them; those under the repository are used).</param>
    public static GitSession Open(AgentFileSystem baseState, AgentFileSystem session, string repoPath, IReadOnlyList<FileChange> workTreeChanges)
    {
        string temp = Directory.CreateTempSubdirectory("agentfs-git-").FullName;
        var g = new GitSession(temp, repoPath);
        try
        {
            g.Load(baseState, session, workTreeChanges);
            return g;
        }
        catch
        {
            g.Dispose();
            throw;
        }
    }

    private string InRepo(string rel) => "/" + (RepoPath.Length == 0 ? rel : RepoPath + "/" + rel);

    private void Load(AgentFileSystem baseState, AgentFileSystem session, IReadOnlyList<FileChange> workTreeChanges)
    {
        // The session's .git, without what git would execute or follow out of it.
        ExportTree(session, InRepo(".git"), GitDir, static rel =>
            rel is "config" or "index" or "hooks" or "logs" or "commondir" or "objects/info/alternates" or "objects/info/http-alternates");
        WriteConfig(session, GitDir);
        var check = GitRunner.Run(null, ["rev-parse", "--git-dir"], _env);
        if (check.ExitCode != 0)
        {
            NotARepository = check.FirstErrorLine;
            return;
        }

        // The base's refs, as a git directory that borrows the session's objects (the base's own objects are the
        // session's too: the overlay started from them).
        string baseGit = System.IO.Path.Combine(_temp, "base");
        string baseDotGit = InRepo(".git");
        if (baseState.Exists(baseDotGit) && baseState.GetAttributes(baseDotGit).IsDirectory)
        {
            BaseHasRepository = true;
            Directory.CreateDirectory(baseGit);
            foreach (var name in new[] { "HEAD", "packed-refs" })
                if (baseState.Exists(baseDotGit + "/" + name) && baseState.GetAttributes(baseDotGit + "/" + name).IsRegular())
                    File.WriteAllBytes(System.IO.Path.Combine(baseGit, name), baseState.ReadAllBytes(baseDotGit + "/" + name));
            if (baseState.Exists(baseDotGit + "/refs")) ExportTree(baseState, baseDotGit + "/refs", System.IO.Path.Combine(baseGit, "refs"), static _ => false);
            Directory.CreateDirectory(System.IO.Path.Combine(baseGit, "refs"));
            Directory.CreateDirectory(System.IO.Path.Combine(baseGit, "objects", "info"));
            File.WriteAllText(System.IO.Path.Combine(baseGit, "objects", "info", "alternates"), System.IO.Path.Combine(GitDir, "objects") + "\n");
            File.Copy(System.IO.Path.Combine(GitDir, "config"), System.IO.Path.Combine(baseGit, "config"));
            var baseEnv = new Dictionary<string, string> { ["GIT_DIR"] = baseGit };
            var tips = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var line in Git(["for-each-ref", "--format=%(objectname)"], baseEnv).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                tips.Add(line.Trim());
            var head = GitRunner.Run(null, ["rev-parse", "--verify", "-q", "HEAD^{commit}"], baseEnv);
            if (head.ExitCode == 0) tips.Add(head.Text.Trim());
            // Only commits: a ref at a tag object or tree is peeled or dropped so rev-list takes the list.
            foreach (var tip in tips)
            {
                var c = GitRunner.Run(null, ["rev-parse", "--verify", "-q", tip + "^{commit}"], _env);
                if (c.ExitCode == 0) BaseTips.Add(c.Text.Trim());
            }
        }

        var sessionHead = GitRunner.Run(null, ["rev-parse", "--verify", "-q", "HEAD^{commit}"], _env);
        Head = sessionHead.ExitCode == 0 ? sessionHead.Text.Trim() : null;
        var symbolic = GitRunner.Run(null, ["symbolic-ref", "-q", "HEAD"], _env);
        HeadBranch = symbolic.ExitCode == 0 && symbolic.Text.Trim().StartsWith("refs/heads/", StringComparison.Ordinal)
            ? symbolic.Text.Trim()["refs/heads/".Length..] : null;
        if (Head != null) NewCommits = CountNew(Head);
        foreach (var line in Git(["for-each-ref", "refs/heads", "--format=%(objectname) %(refname)"]).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int space = line.IndexOf(' ');
            string oid = line[..space], name = line[(space + 1)..]["refs/heads/".Length..];
            var commit = GitRunner.Run(null, ["rev-parse", "--verify", "-q", oid + "^{commit}"], _env);
            if (commit.ExitCode != 0) continue;
            int n = CountNew(oid);
            if (n > 0) Branches.Add(new GitBranchChanges(name, oid, n));
        }
        if (Head != null) Uncommitted = CommitWorkTree(session, workTreeChanges);
    }

    /// <summary>A minimal config with the session's repository format (object format), nothing else of it.</summary>
    private void WriteConfig(AgentFileSystem session, string gitDir)
    {
        string version = "0", objectFormat = "";
        string config = InRepo(".git/config");
        if (session.Exists(config) && session.GetAttributes(config).IsRegular())
        {
            string copy = System.IO.Path.Combine(_temp, "session-config");
            File.WriteAllBytes(copy, session.ReadAllBytes(config));
            // git config --file only parses the file; it runs nothing the file names.
            var v = GitRunner.Run(null, ["config", "--file", copy, "--get", "core.repositoryformatversion"]);
            if (v.ExitCode == 0 && v.Text.Trim() == "1") version = "1";
            var f = GitRunner.Run(null, ["config", "--file", copy, "--get", "extensions.objectformat"]);
            if (f.ExitCode == 0 && f.Text.Trim() is "sha1" or "sha256") objectFormat = f.Text.Trim();
        }
        var sb = new StringBuilder($"[core]\n\trepositoryformatversion = {version}\n\tbare = false\n\tfilemode = true\n\tsymlinks = true\n");
        if (version == "1" && objectFormat.Length > 0) sb.Append($"[extensions]\n\tobjectformat = {objectFormat}\n");
        File.WriteAllText(System.IO.Path.Combine(gitDir, "config"), sb.ToString());
    }

    /// <summary>Commits reachable from <paramref name="tip"/> and from no base tip.</summary>
    private int CountNew(string tip) =>
        int.Parse(Git(["rev-list", "--count", "--stdin"], stdin: RevisionList(tip)).Text.Trim(), System.Globalization.CultureInfo.InvariantCulture);

    private byte[] RevisionList(params string[] tips)
    {
        var sb = new StringBuilder();
        foreach (var t in tips) sb.Append(t).Append('\n');
        foreach (var b in BaseTips) sb.Append('^').Append(b).Append('\n');
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>
    /// Refuses a repository whose new commits do not grow out of the base's history (the agent made a new
    /// repository, or one with a history of its own): its commits cannot be applied or fetched on top of the base.
    /// </summary>
    public void CheckHistoryGrowsFromBase(string storePath)
    {
        if (NotARepository != null)
            throw new AgentFsException(Errno.EINVAL, $"{Display}/.git in store {storePath} is not a repository git can read ({NotARepository}); there are no commits to export");
        if (NewCommits == 0 && Branches.Count == 0) return;
        var tips = Branches.Select(b => b.Commit).Append(Head).OfType<string>().ToArray();
        string roots = Git(["rev-list", "--max-parents=0", "--stdin"], stdin: RevisionList(tips)).Text.Trim();
        if (!BaseHasRepository || BaseTips.Count == 0 || roots.Length > 0)
            throw new AgentFsException(Errno.EINVAL,
                $"the git repository {Display} of store {storePath} has commits whose history the base's " +
                (BaseHasRepository ? $"repository does not contain (root commit {roots.Split('\n')[0][..12]})" : "directory does not have (there is no repository there in the base)") +
                "; its commits cannot be exported on top of the base: copy the repository with 'agentfs export' or 'agentfs patch --include-vcs'");
    }

    /// <summary>
    /// The working tree's state as a commit on top of HEAD, or null when it has no uncommitted changes. Only the
    /// paths that can differ from HEAD are looked at: those the session changed since the base, those HEAD
    /// changed since the base's HEAD. Untracked files that the repository's .gitignore files ignore are left out,
    /// as <c>git add -A</c> would.
    /// </summary>
    private string? CommitWorkTree(AgentFileSystem session, IReadOnlyList<FileChange> workTreeChanges)
    {
        string prefix = RepoPath.Length == 0 ? "" : RepoPath + "/";
        var candidates = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var c in workTreeChanges)
        {
            if (c.IsDirectory) continue;
            foreach (var p in c.OldPath == null ? [c.Path] : new[] { c.Path, c.OldPath })
                if (p.StartsWith(prefix, StringComparison.Ordinal)) candidates.Add(p[prefix.Length..]);
        }
        string? baseHead = BaseTips.Count == 0 ? null : BaseHeadCommit();
        if (baseHead != null && baseHead != Head)
            foreach (var p in Git(["diff-tree", "-r", "-z", "--no-renames", "--name-only", baseHead, Head!]).Text.Split('\0', StringSplitOptions.RemoveEmptyEntries))
                candidates.Add(p);
        if (candidates.Count == 0) return null;

        Directory.CreateDirectory(WorkTree);
        var present = new List<string>();
        var gitignores = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rel in candidates)
        {
            string inSession = InRepo(rel);
            if (VcsPaths.IsInternal(Encoding.UTF8.GetBytes(rel))) continue;
            if (session.Exists(inSession))
            {
                var a = session.GetAttributes(inSession);
                if (a.IsRegular() || a.IsSymlink)
                {
                    ExportFile(session, inSession, System.IO.Path.Combine(WorkTree, rel), a);
                    present.Add(rel);
                }
            }
            for (string? dir = Parent(rel); dir != null; dir = Parent(dir))
                gitignores.Add(dir.Length == 0 ? ".gitignore" : dir + "/.gitignore");
        }
        foreach (var gi in gitignores)
        {
            string inSession = InRepo(gi), host = System.IO.Path.Combine(WorkTree, gi);
            if (!File.Exists(host) && session.Exists(inSession) && session.GetAttributes(inSession).IsRegular())
                ExportFile(session, inSession, host, session.GetAttributes(inSession));
        }

        var env = new Dictionary<string, string>(_env)
        {
            ["GIT_WORK_TREE"] = WorkTree,
            ["GIT_INDEX_FILE"] = System.IO.Path.Combine(_temp, "index"),
        };
        Git(["read-tree", Head!], env);
        // check-ignore leaves out what the index tracks: only untracked, ignored files are dropped.
        var ignored = new HashSet<string>(StringComparer.Ordinal);
        if (present.Count > 0)
        {
            var r = GitRunner.Run(WorkTree, ["check-ignore", "-z", "--stdin"], env, Encoding.UTF8.GetBytes(string.Join('\0', present) + "\0"));
            if (r.ExitCode > 1) throw new AgentFsException(Errno.EIO, $"reading the .gitignore files of repository {Display}: git check-ignore failed: {r.FirstErrorLine}");
            foreach (var p in r.Text.Split('\0', StringSplitOptions.RemoveEmptyEntries)) ignored.Add(p);
        }
        var update = candidates.Where(p => !ignored.Contains(p) && !VcsPaths.IsInternal(Encoding.UTF8.GetBytes(p)));
        Git(["update-index", "--add", "--remove", "-z", "--stdin"], env, Encoding.UTF8.GetBytes(string.Join('\0', update) + "\0"), WorkTree);
        string tree = Git(["write-tree"], env).Text.Trim();
        if (tree == Git(["rev-parse", Head + "^{tree}"]).Text.Trim()) return null;
        // Dated as HEAD's commit, so the same session always gives the same series (and the same commit id).
        string date = Git(["show", "-s", "--format=%cI", Head!]).Text.Trim();
        var commitEnv = new Dictionary<string, string>(_env)
        {
            ["GIT_AUTHOR_DATE"] = date, ["GIT_COMMITTER_DATE"] = date,
            ["GIT_AUTHOR_NAME"] = "AgentFs", ["GIT_AUTHOR_EMAIL"] = "agentfs@localhost",
            ["GIT_COMMITTER_NAME"] = "AgentFs", ["GIT_COMMITTER_EMAIL"] = "agentfs@localhost",
        };
        return Git(["commit-tree", tree, "-p", Head!, "-m", "Uncommitted changes of the AgentFs session",
            "-m", "The session's working tree held these changes on top of its HEAD; they were never committed."], commitEnv).Text.Trim();
    }

    private string? BaseHeadCommit()
    {
        string baseGit = System.IO.Path.Combine(_temp, "base");
        var r = GitRunner.Run(null, ["rev-parse", "--verify", "-q", "HEAD^{commit}"], new Dictionary<string, string> { ["GIT_DIR"] = baseGit });
        return r.ExitCode == 0 ? r.Text.Trim() : null;
    }

    /// <summary>The commits on HEAD (and the uncommitted changes) since the base, as <c>git format-patch --stdout</c>
    /// writes them (an mbox that <c>git am</c> applies). Merge commits are left out, as format-patch does.</summary>
    public void WriteFormatPatch(Stream output)
    {
        string? tip = Uncommitted ?? Head;
        if (tip == null) return;
        GitRunner.Ok(null, ["format-patch", "--stdout", "--binary", "--full-index", "--stdin"], $"writing the commits of repository {Display}",
            _env, RevisionList(tip), output);
    }

    /// <summary>
    /// Writes a bundle of the branches with new commits (and HEAD) with the base's tips as prerequisites, so that
    /// a clone of the base fetches from it. Returns the refs in it. The uncommitted changes are not in it.
    /// </summary>
    public List<string> WriteBundle(string path)
    {
        var refs = Branches.Select(b => "refs/heads/" + b.Name).ToList();
        if (Head != null && NewCommits > 0) refs.Add("HEAD");
        if (refs.Count == 0)
            throw new AgentFsException(Errno.ENOENT, $"the git repository {Display} has no commits the base does not have; there is nothing to bundle");
        var list = new StringBuilder();
        foreach (var r in refs) list.Append(r).Append('\n');
        foreach (var b in BaseTips) list.Append('^').Append(b).Append('\n');
        GitRunner.Ok(null, ["bundle", "create", "-q", path, "--stdin"], $"writing a bundle of repository {Display}", _env, Encoding.ASCII.GetBytes(list.ToString()));
        return refs;
    }

    private GitRunner.Result Git(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env = null, byte[]? stdin = null, string? cwd = null) =>
        GitRunner.Ok(cwd, args, $"reading the git repository {Display} of the session", env ?? _env, stdin);

    /// <summary>Copies a directory of a state to the host: directories and regular files only (symlinks and special
    /// files inside .git are not git's and are not followed), skipping the relative paths <paramref name="skip"/> names.</summary>
    private static void ExportTree(AgentFileSystem fs, string from, string to, Func<string, bool> skip, string rel = "")
    {
        Directory.CreateDirectory(to);
        foreach (var e in fs.Enumerate(from))
        {
            string name = e.NameString;
            if (name is "." or "..") continue;
            string childRel = rel.Length == 0 ? name : rel + "/" + name;
            if (skip(childRel)) continue;
            string child = from + "/" + name;
            var a = fs.GetAttributes(child);
            if (a.IsDirectory) ExportTree(fs, child, System.IO.Path.Combine(to, name), skip, childRel);
            else if (a.IsRegular()) ExportFile(fs, child, System.IO.Path.Combine(to, name), a);
        }
    }

    private static void ExportFile(AgentFileSystem fs, string from, string to, InodeAttributes a)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(to)!);
        if (a.IsSymlink)
        {
            File.CreateSymbolicLink(to, fs.ReadSymbolicLink(from));
            return;
        }
        File.WriteAllBytes(to, fs.ReadAllBytes(from));
        if ((a.Mode & 0x40) != 0)
            File.SetUnixFileMode(to, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void Dispose()
    {
        try { Directory.Delete(_temp, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

internal static class InodeAttributesKinds
{
    public static bool IsRegular(this InodeAttributes a) => (a.Mode & PosixMode.S_IFMT) == PosixMode.S_IFREG;
}
