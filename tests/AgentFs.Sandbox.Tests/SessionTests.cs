namespace AgentFs.Sandbox.Tests;

/// <summary>The session inside the sandbox: real tools on it, checkpoints from inside, the summary at exit.</summary>
public sealed class SessionTests : IDisposable
{
    private readonly SandboxProject _p = new();

    public void Dispose() => _p.Dispose();

    [Fact]
    public void Git_works_inside_and_its_repository_lives_in_the_session()
    {
        string baseHash = SandboxProject.TreeHash(_p.BaseDir);
        var r = _p.RunScript("""
            set -e
            git init -q . && git add -A && git commit -qm first
            echo 'int helper(void);' >> src/main.c && git commit -qam second
            git log --format=%s | tr '\n' ' '; git status --porcelain | wc -l
            """);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("second first 0\n", r.Stdout);
        Assert.Equal(baseHash, SandboxProject.TreeHash(_p.BaseDir));
        Assert.StartsWith("ref: refs/heads/", _p.Agent("fs", _p.StorePath, "cat", ".git/HEAD").Stdout);
        // A later run sees the same repository.
        var again = _p.RunScript("git log --oneline | wc -l");
        Assert.Equal("2\n", again.Stdout);
    }

    [Fact]
    public void A_checkpoint_taken_inside_can_be_rolled_back_to_from_outside()
    {
        var r = _p.RunScript("""
            set -e
            echo v1 > state.txt
            agentfs checkpoint "$AGENTFS_STORE" -m "task 1"
            echo v2 > state.txt && rm README
            agentfs log "$AGENTFS_STORE" | cut -f4
            """);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("1\ntask 1\n", r.Stdout);
        Assert.Equal("v2\n", _p.Agent("fs", _p.StorePath, "cat", "state.txt").Stdout);

        Assert.Equal(0, _p.Agent("rollback", _p.StorePath, "1").ExitCode);
        Assert.Equal("v1\n", _p.Agent("fs", _p.StorePath, "cat", "state.txt").Stdout);
        Assert.Equal("the project\n", _p.Agent("fs", _p.StorePath, "cat", "README").Stdout);
    }

    [Fact]
    public void Diff_and_patch_work_inside_although_the_session_covers_the_base()
    {
        var r = _p.RunScript("""
            set -e
            echo 'int helper(void);' >> src/main.c && echo new > added.txt
            agentfs diff "$AGENTFS_STORE" --name-status
            agentfs patch "$AGENTFS_STORE" > /tmp/change.patch
            (echo x > /run/agentfs/base/README) 2>/dev/null && echo "BASE WRITABLE" || true
            cd /tmp && mkdir copy && cp -r /run/agentfs/base/. copy/ && cd copy && git apply /tmp/change.patch && cat added.txt
            """);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("A\tadded.txt\nM\tsrc/main.c\nnew\n", r.Stdout);
        Assert.Equal("the project\n", File.ReadAllText(Path.Combine(_p.BaseDir, "README")));
    }

    [Fact]
    public void A_rollback_inside_shows_at_once_in_the_sandbox()
    {
        var r = _p.RunScript("""
            set -e
            echo v1 > state.txt; id=$(agentfs checkpoint "$AGENTFS_STORE")
            echo v2 > state.txt; cat state.txt
            agentfs rollback "$AGENTFS_STORE" "$id" >/dev/null; cat state.txt
            """);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("v2\nv1\n", r.Stdout);
    }

    [Fact]
    public void The_sandbox_reaches_its_own_control_socket_and_no_other()
    {
        // Another session, mounted on the host, whose store is readable inside (next to ours): its control
        // socket lies in the host's runtime directory beside ours.
        string otherBase = _p.PathIn("other-base"), otherStore = _p.PathIn("other.agentfs"), mnt = _p.PathIn("other-mnt");
        Directory.CreateDirectory(otherBase);
        Directory.CreateDirectory(mnt);
        Assert.Equal(0, _p.Agent("init", otherStore, "--base", otherBase).ExitCode);
        Assert.Equal(0, _p.Agent("mount", otherStore, mnt, "--background").ExitCode);
        try
        {
            string otherSocket;
            using (var store = AgentStore.Open(otherStore, new StoreOptions { ReadOnly = true }))
                otherSocket = AgentFs.Control.ControlPaths.SocketFor(store.StoreId, "main");
            Assert.True(File.Exists(otherSocket), otherSocket);
            var r = _p.RunScript($"""
                ls /run/agentfs | grep -c '^ctl-'
                python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' {otherSocket} 2>/dev/null && echo "CONNECTED to the other session"
                agentfs log {otherStore} >/dev/null && echo "other store readable"
                agentfs checkpoint {otherStore} -m escape 2>/dev/null; echo "checkpoint exit $?"
                agentfs checkpoint "$AGENTFS_STORE" -m ours
                """);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal("1\nother store readable\ncheckpoint exit 1\n1\n", r.Stdout);
            Assert.Empty(_p.Agent("log", otherStore).Stdout);
        }
        finally
        {
            _p.Agent("unmount", mnt);
        }
    }

    [Fact]
    public void Checkpoint_on_exit_seals_the_state_and_the_summary_says_what_changed_and_what_to_do()
    {
        var r = _p.Agent("run", _p.StorePath, "--checkpoint-on-exit", "-m", "agent done", "--", "bash", "-c",
            "printf 'a\\nb\\n' > notes.txt; printf 'the project\\nmore\\n' > README; exit 3");
        Assert.Equal(3, r.ExitCode);
        Assert.Equal($"agentfs: branch main of {_p.StorePath}: 2 files changed since the base, +3 -0 lines; checkpoint 1", r.StderrLines[0]);
        Assert.Contains($"agentfs diff {_p.StorePath}", r.StderrLines[1]);
        Assert.Contains($"agentfs apply {_p.StorePath} {_p.BaseDir}", r.StderrLines[1]);
        var log = _p.Agent("log", _p.StorePath).Stdout;
        Assert.Contains("agent done", log);
    }

    [Fact]
    public void The_summary_counts_lines_of_text_files_only_and_names_the_binary_ones()
    {
        // 3 MB of random bytes (binary: they hold NULs), about 11,700 newlines among them: not lines to count.
        var r = _p.Agent("run", _p.StorePath, "--", "bash", "-c",
            "head -c 3000000 /dev/urandom > data.bin; printf 'x\\n' > notes.txt");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal($"agentfs: branch main of {_p.StorePath}: 2 files changed since the base (1 binary), +1 -0 lines", r.StderrLines[0]);
    }
}
