using System.Text.Json;
using static AgentFs.Cli.Tests.GitSessionFixture;

namespace AgentFs.Cli.Tests;

/// <summary>
/// Sessions of git repositories export the way git users expect (issue 13): diff and patch leave .git out and say
/// so; patch --commits is a series git am applies; bundle is what git fetch takes; apply brings the commits in as a
/// branch. All with the real git.
/// </summary>
public class GitSessionCommandTests
{
    [Fact]
    public void Diff_and_patch_leave_out_git_internals_say_so_and_git_apply_takes_the_patch()
    {
        using var s = new GitSessionFixture("proj");
        s.AgentCommitsTwiceAndLeavesEdits("proj");
        s.Replay();

        var names = Cli.Run("diff", s.StorePath, "--name-status");
        Assert.Equal(0, names.ExitCode);
        Assert.Equal(["M\tproj/a.txt", "A\tproj/blob.bin", "A\tproj/build.o", "D\tproj/gone.txt", "M\tproj/keep.txt", "A\tproj/new.sh", "A\tproj/untracked.txt"],
            names.StdoutLines.OrderBy(l => l.Split('\t')[1], StringComparer.Ordinal).ToArray());
        var note = Assert.Single(names.StderrLines);
        Assert.Matches(@"^agentfs: left out \d+ changes inside version-control directories \(\.git, \.hg, \.jj\); --include-vcs keeps them", note);

        var all = Cli.Run("diff", s.StorePath, "--name-status", "--include-vcs").Ok();
        Assert.Contains(all.StdoutLines, l => l.Contains("proj/.git/"));
        // The count is of every change inside .git, its new directories included (which name-status does not show).
        int vcs = JsonDocument.Parse(Cli.Run("diff", s.StorePath, "--json", "--include-vcs").Stdout).RootElement.GetProperty("changes")
            .EnumerateArray().Count(c => c.GetProperty("path").GetString()!.Contains("/.git"));
        Assert.Contains($"left out {vcs} changes", note);

        var json = JsonDocument.Parse(Cli.Run("diff", s.StorePath, "--json").Stdout).RootElement;
        Assert.Equal(vcs, json.GetProperty("vcs_left_out").GetInt32());
        Assert.DoesNotContain(json.GetProperty("changes").EnumerateArray(), c => c.GetProperty("path").GetString()!.Contains(".git/"));
        Assert.Contains("left out", Cli.Run("diff", s.StorePath, "--stat").Stderr);

        string patch = s.PathIn("work.patch");
        var written = Cli.Run("patch", s.StorePath, "-o", patch).Ok();
        Assert.Contains($"left out {vcs} changes inside version-control directories", written.Stdout);
        Assert.DoesNotContain(".git/", File.ReadAllText(patch));
        // git apply on a copy of the base gives the session's working tree (the files the agent left, ignored ones included).
        string copy = s.CloneBase("proj", "copy");
        Git(copy, "apply", "--check", "-p2", patch);
        Git(copy, "apply", "-p2", patch);
        Assert.Equal(WorkTreeId(Path.Combine(s.Work, "proj")), WorkTreeId(copy));
        Assert.Equal(File.ReadAllBytes(Path.Combine(s.Work, "proj/build.o")), File.ReadAllBytes(Path.Combine(copy, "build.o")));
    }

    [Fact]
    public void Commits_series_applies_with_git_am_and_reproduces_each_commit_then_the_uncommitted_changes()
    {
        using var s = new GitSessionFixture("proj");
        s.AgentCommitsTwiceAndLeavesEdits("proj");
        s.Replay();
        string work = Path.Combine(s.Work, "proj");

        string mbox = s.PathIn("series.mbox");
        var r = Cli.Run("patch", s.StorePath, "--commits", "-o", mbox).Ok();
        Assert.Contains("2 commits of git repository proj and its uncommitted changes as a last patch (3 patches", r.Stdout);
        Assert.Equal(Cli.Run("patch", s.StorePath, "--commits").Ok().StdoutBytes, File.ReadAllBytes(mbox));

        string clone = s.CloneBase("proj", "clone");
        Git(clone, "am", "-q", mbox);
        // Each commit: the same tree, message, author and author date as the agent's.
        string format = "%T%n%an <%ae> %aI%n%B";
        var agentCommits = Git(work, "rev-list", "--reverse", "main", "^main~2").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var amCommits = Git(clone, "rev-list", "--reverse", "HEAD", "^HEAD~3").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, amCommits.Length);
        for (int i = 0; i < 2; i++)
            Assert.Equal(Git(work, "show", "-s", "--format=" + format, agentCommits[i]), Git(clone, "show", "-s", "--format=" + format, amCommits[i]));
        // The last patch holds the uncommitted working tree: edit, deletion, untracked file; not the ignored one.
        Assert.Equal(WorkTreeId(work), Git(clone, "rev-parse", "HEAD^{tree}").Trim());
        Assert.Contains("AgentFs <agentfs@localhost>", Git(clone, "show", "-s", "--format=%an <%ae>", "HEAD"));
        Assert.False(File.Exists(Path.Combine(clone, "build.o")));
        Git(clone, "fsck", "--strict");
    }

    [Fact]
    public void Bundle_is_fetched_by_a_clone_of_the_base_and_an_existing_path_is_refused()
    {
        using var s = new GitSessionFixture("proj");
        s.AgentCommitsTwiceAndLeavesEdits("proj");
        s.Replay();
        string bundle = s.PathIn("agent.bundle");
        var r = Cli.Run("bundle", s.StorePath, bundle);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("main (+2)", r.Stdout);
        Assert.Contains("uncommitted changes", Assert.Single(r.StderrLines));
        Assert.Equal("600", Convert.ToString((int)File.GetUnixFileMode(bundle), 8));

        string clone = s.CloneBase("proj", "clone");
        Git(clone, "fetch", "-q", bundle, "refs/heads/*:refs/remotes/agent/*");
        Assert.Equal(Git(Path.Combine(s.Work, "proj"), "rev-parse", "main"), Git(clone, "rev-parse", "agent/main"));
        Git(clone, "fsck", "--strict");

        byte[] before = File.ReadAllBytes(bundle);
        Cli.Run("bundle", s.StorePath, bundle).UserError(bundle, "already exists");
        Assert.Equal(before, File.ReadAllBytes(bundle));
    }

    [Fact]
    public void Apply_into_a_target_with_a_commit_of_its_own_brings_the_commits_in_as_a_branch()
    {
        using var s = new GitSessionFixture("proj");
        s.AgentCommitsTwiceAndLeavesEdits("proj");
        s.Replay();
        string target = s.PathIn("target");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "README"), "outside any repository\n");
        string repo = Path.Combine(target, "proj");
        Git(s.Root, "clone", "-q", "--no-local", Path.Combine(s.BaseDir, "proj"), repo);
        File.WriteAllText(Path.Combine(repo, "own.txt"), "the target's own work\n");
        Git(repo, "add", "own.txt");
        Git(repo, "commit", "-q", "-m", "target's own commit");
        string head = Git(repo, "rev-parse", "HEAD"), branch = Git(repo, "symbolic-ref", "HEAD"), staged = Git(repo, "ls-files", "-s");

        var r = Cli.Run("apply", s.StorePath, target).Ok();
        Assert.Contains("brought 2 commits of refs/heads/main into " + repo + " as branch agentfs/main (HEAD and index untouched)", r.Stdout);
        Assert.DoesNotContain(".git", string.Join('\n', r.StdoutLines.Where(l => l.Contains('\t'))));

        string work = Path.Combine(s.Work, "proj");
        Assert.Equal(Git(work, "rev-parse", "main"), Git(repo, "rev-parse", "agentfs/main"));
        Assert.Equal(head, Git(repo, "rev-parse", "HEAD"));
        Assert.Equal(branch, Git(repo, "symbolic-ref", "HEAD"));
        Assert.Equal(staged, Git(repo, "ls-files", "-s"));
        Assert.Equal("the target's own work\n", File.ReadAllText(Path.Combine(repo, "own.txt")));
        foreach (var f in new[] { "a.txt", "keep.txt", "new.sh", "blob.bin", "untracked.txt" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(work, f)), File.ReadAllBytes(Path.Combine(repo, f)));
        Assert.False(File.Exists(Path.Combine(repo, "gone.txt")));
        Git(repo, "fsck", "--strict");

        // Again: the branch exists now, so nothing is written and one line says what to do.
        string hash = TreeHash(target);
        Cli.Run("apply", s.StorePath, s.PathIn("target"), "--dry-run").UserError();
        Assert.Equal(hash, TreeHash(target));
    }

    [Fact]
    public void Apply_with_git_branch_and_checkout_makes_that_branch_head_with_the_uncommitted_changes_showing()
    {
        using var s = new GitSessionFixture("proj");
        s.AgentCommitsTwiceAndLeavesEdits("proj");
        s.Replay();
        string target = s.PathIn("target");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "README"), "outside any repository\n");
        string repo = Path.Combine(target, "proj");
        Git(s.Root, "clone", "-q", "--no-local", Path.Combine(s.BaseDir, "proj"), repo);

        Cli.Run("apply", s.StorePath, target, "--git-branch", "agent-work", "--checkout").Ok();
        Assert.Equal("refs/heads/agent-work\n", Git(repo, "symbolic-ref", "HEAD"));
        Assert.Equal(Git(Path.Combine(s.Work, "proj"), "rev-parse", "main"), Git(repo, "rev-parse", "HEAD"));
        Assert.Equal(Git(Path.Combine(s.Work, "proj"), "status", "--porcelain"), Git(repo, "status", "--porcelain"));
    }

    [Fact]
    public void Two_repositories_side_by_side_export_and_apply_each()
    {
        using var s = new GitSessionFixture("one", "two");
        s.AgentCommitsTwiceAndLeavesEdits("one");
        s.AgentCommitsTwiceAndLeavesEdits("two");
        s.Replay();
        Cli.Run("patch", s.StorePath, "--commits").UserError("2 git repositories", "one, two", "--repo");
        foreach (var repo in new[] { "one", "two" })
        {
            string mbox = s.PathIn(repo + ".mbox");
            Cli.Run("patch", s.StorePath, "--commits", "--repo", repo, "-o", mbox).Ok();
            string clone = s.CloneBase(repo, "clone-" + repo);
            Git(clone, "am", "-q", mbox);
            Assert.Equal(WorkTreeId(Path.Combine(s.Work, repo)), Git(clone, "rev-parse", "HEAD^{tree}").Trim());
            string bundle = s.PathIn(repo + ".bundle");
            Cli.Run("bundle", s.StorePath, bundle, "--repo", repo);
            Git(clone, "fetch", "-q", bundle, "refs/heads/main:refs/heads/fetched");
            Assert.Equal(Git(Path.Combine(s.Work, repo), "rev-parse", "main"), Git(clone, "rev-parse", "fetched"));
        }
        string target = s.PathIn("target");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "README"), "outside any repository\n");
        foreach (var repo in new[] { "one", "two" })
            Git(s.Root, "clone", "-q", "--no-local", Path.Combine(s.BaseDir, repo), Path.Combine(target, repo));
        var r = Cli.Run("apply", s.StorePath, target).Ok();
        foreach (var repo in new[] { "one", "two" })
        {
            Assert.Equal(Git(Path.Combine(s.Work, repo), "rev-parse", "main"), Git(Path.Combine(target, repo), "rev-parse", "agentfs/main"));
            Git(Path.Combine(target, repo), "fsck", "--strict");
        }
    }

    [Fact]
    public void A_repository_the_agent_packed_with_git_gc_exports_the_same()
    {
        using var s = new GitSessionFixture("proj");
        s.AgentCommitsTwiceAndLeavesEdits("proj");
        Agent(Path.Combine(s.Work, "proj"), "gc", "-q", "--prune=now");
        Assert.DoesNotContain(Directory.EnumerateDirectories(Path.Combine(s.Work, "proj/.git/objects")), d => Path.GetFileName(d).Length == 2);
        s.Replay();
        string mbox = s.PathIn("series.mbox");
        Cli.Run("patch", s.StorePath, "--commits", "-o", mbox).Ok();
        string clone = s.CloneBase("proj", "clone");
        Git(clone, "am", "-q", mbox);
        Assert.Equal(WorkTreeId(Path.Combine(s.Work, "proj")), Git(clone, "rev-parse", "HEAD^{tree}").Trim());
        string bundle = s.PathIn("agent.bundle");
        Cli.Run("bundle", s.StorePath, bundle);
        string clone2 = s.CloneBase("proj", "clone2");
        Git(clone2, "fetch", "-q", bundle, "refs/heads/main:refs/heads/agent");
        Assert.Equal(Git(Path.Combine(s.Work, "proj"), "rev-parse", "main"), Git(clone2, "rev-parse", "agent"));
    }

    [Fact]
    public void A_target_that_is_not_a_repository_is_refused_and_nothing_is_written()
    {
        using var s = new GitSessionFixture("proj");
        s.AgentCommitsTwiceAndLeavesEdits("proj");
        s.Replay();
        string target = s.PathIn("plain");
        CopyTree(s.BaseDir, target);
        Directory.Delete(Path.Combine(target, "proj/.git"), recursive: true);
        string hash = TreeHash(target);
        Cli.Run("apply", s.StorePath, target).UserError(Path.Combine(target, "proj"), "is not a git repository", "2 commits", "--include-vcs");
        Assert.Equal(hash, TreeHash(target));
    }

    [Fact]
    public void A_repository_whose_history_the_base_does_not_contain_is_refused_and_nothing_is_written()
    {
        using var s = new GitSessionFixture("proj");
        string dir = Path.Combine(s.Work, "proj");
        Directory.Delete(Path.Combine(dir, ".git"), recursive: true);
        Agent(dir, "init", "-q", "-b", "main");
        Agent(dir, "add", "-A");
        Agent(dir, "commit", "-q", "-m", "a history of its own");
        s.Replay();
        string mbox = s.PathIn("series.mbox"), bundle = s.PathIn("agent.bundle");
        Cli.Run("patch", s.StorePath, "--commits", "-o", mbox).UserError("proj", "history the base's repository does not contain");
        Cli.Run("bundle", s.StorePath, bundle).UserError("proj", "history the base's repository does not contain");
        Assert.False(File.Exists(mbox));
        Assert.False(File.Exists(bundle));
        string target = s.PathIn("target");
        Directory.CreateDirectory(target);
        Git(s.Root, "clone", "-q", "--no-local", Path.Combine(s.BaseDir, "proj"), Path.Combine(target, "proj"));
        string hash = TreeHash(target);
        Cli.Run("apply", s.StorePath, target).UserError("history the base's repository does not contain");
        Assert.Equal(hash, TreeHash(target));
    }
}
