namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// An agent commits with the real git on a real mount; the library exports its commits (issue 13): a format-patch
/// series git am applies, a bundle git fetch takes, an apply that brings the commits in as a branch, and the same
/// after the agent ran git gc.
/// </summary>
public class GitSessionMountTests
{
    private static void BaseRepository(string dir)
    {
        string proj = Path.Combine(dir, "proj");
        Directory.CreateDirectory(proj);
        File.WriteAllText(Path.Combine(proj, "a.txt"), "one\ntwo\n");
        File.WriteAllText(Path.Combine(proj, "gone.txt"), "bye\n");
        Sh(proj, "git init -q -b main && git add -A && git -c user.name=b -c user.email=b@x commit -qm base");
    }

    private static string Sh(string dir, string script)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("bash", ["-c", script])
        {
            WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        psi.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        psi.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        psi.Environment["GIT_AUTHOR_NAME"] = psi.Environment["GIT_COMMITTER_NAME"] = "t";
        psi.Environment["GIT_AUTHOR_EMAIL"] = psi.Environment["GIT_COMMITTER_EMAIL"] = "t@example.com";
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"'{script}' in {dir} exited {p.ExitCode}: {err.Result}{output}");
        return output;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Commits_made_on_the_mount_export_as_a_series_a_bundle_and_a_branch(bool gc)
    {
        using var m = new MountedStore(BaseRepository);
        string work = m.P("proj");
        m.Sh("echo three >> a.txt && git commit -qam 'Add three' && echo x > b.txt && git add b.txt && git commit -qm 'Add b'", work);
        if (gc) m.Sh("git gc -q --prune=now", work);
        m.Sh("echo edited >> b.txt && rm gone.txt", work);
        string headTree = m.Sh("git rev-parse HEAD", work).Trim();
        string workTree = m.Sh("export GIT_INDEX_FILE=$(mktemp -u) && git read-tree HEAD && git add -A && git write-tree && rm -f $GIT_INDEX_FILE", work).Trim();
        m.Unmount();

        using var store = AgentStore.Open(m.StorePath, new StoreOptions { ReadOnly = true });
        var repo = Assert.Single(store.GitRepositories("main"));
        Assert.Equal(("proj", "main", headTree, 2, true), (repo.Path, repo.HeadBranch, repo.Head, repo.NewCommits, repo.HasUncommittedChanges));

        string mbox = Path.Combine(m.Root, "series.mbox");
        using (var f = File.Create(mbox)) store.WriteGitCommits("main", f);
        string clone = Path.Combine(m.Root, "clone");
        Sh(m.Root, $"git clone -q --no-local base/proj {clone}");
        Sh(clone, $"git am -q {mbox}");
        Assert.Equal(workTree, Sh(clone, "git rev-parse HEAD^{tree}").Trim());
        Assert.Equal("Add three\nAdd b\nUncommitted changes of the AgentFs session\n", Sh(clone, "git log --format=%s --reverse HEAD~3..HEAD"));

        string bundle = Path.Combine(m.Root, "agent.bundle");
        store.WriteGitBundle("main", bundle);
        Sh(clone, $"git fetch -q {bundle} refs/heads/main:refs/heads/fetched");
        Assert.Equal(headTree, Sh(clone, "git rev-parse fetched").Trim());

        // The target moved on since the base was taken; a local clone hard-links the base's objects (their ctime
        // changes), which must not read as the base drifting under the objects the agent's git freshened.
        string target = Path.Combine(m.Root, "target");
        Sh(m.Root, $"git clone -q base/proj {target}/proj && cd {target}/proj && echo own > own.txt && git add own.txt && git commit -qm own");
        string head = Sh(Path.Combine(target, "proj"), "git rev-parse HEAD");
        var result = store.Apply("main", target, new ApplyOptions());
        var branch = Assert.Single(result.GitBranches);
        Assert.Equal(("agentfs/main", 2), (branch.Branch, branch.NewCommits));
        string t = Path.Combine(target, "proj");
        Assert.Equal(headTree, Sh(t, "git rev-parse agentfs/main").Trim());
        Assert.Equal(head, Sh(t, "git rev-parse HEAD"));
        Assert.Equal("own\n", File.ReadAllText(Path.Combine(t, "own.txt")));
        Assert.Equal("x\nedited\n", File.ReadAllText(Path.Combine(t, "b.txt")));
        Assert.False(File.Exists(Path.Combine(t, "gone.txt")));
        Sh(t, "git fsck --strict");
        Assert.Equal(m.BaseHashBefore, MountedStore.TreeHash(m.BaseDir));
    }
}
