using System.Diagnostics;

namespace AgentFs.Sandbox.Tests;

/// <summary>
/// `agentfs run` as an ordinary user the test creates: no root, no setuid helper, only user namespaces (FUSE
/// mounted inside one). The project, the store and the program belong to that user. When the machine does not
/// allow it (/dev/fuse out of reach, user namespaces off), one line says what to change.
/// </summary>
public sealed class UnprivilegedTests : IDisposable
{
    private readonly SandboxProject _p;
    private readonly TestUser _user;

    public UnprivilegedTests()
    {
        _p = new SandboxProject(dir => File.WriteAllBytes(Path.Combine(dir, "data.bin"), RandomBytes(300_000, 1)));
        try { _user = new TestUser(_p.Root); }
        catch { _p.Dispose(); throw; }
    }

    private string? _sentinel;

    public void Dispose()
    {
        try { _user.Dispose(); }
        finally
        {
            _p.Dispose();
            if (_sentinel != null) Directory.Delete(_sentinel, true);
        }
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private RunResult RunScript(string script) => _user.Agent(_p.BaseDir, "run", _p.StorePath, "--", "bash", "-c", script);

    /// <summary>The bytes of a file of the branch, read with agentfs fs cat (as the user) into a file.</summary>
    private byte[] SessionFile(string path)
    {
        string output = _p.PathIn("fs-cat.out");
        var r = _user.Command(_p.Root, ["sh", "-c", "exec \"$@\" > " + output, "sh", .. _user.ProgramCommand, "fs", _p.StorePath, "cat", path]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return File.ReadAllBytes(output);
    }

    [Fact]
    public void An_ordinary_user_runs_a_sandbox_where_only_the_session_changes_and_the_files_are_its_own()
    {
        _user.GrantFuseDevice();
        // A tree of the user's own outside the project (and outside /tmp, which the sandbox replaces): writable for
        // it on the host, never from the sandbox.
        string sentinel = _sentinel = Path.Combine("/var/tmp", "agentfs-sentinel-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(sentinel, "deep"));
        File.WriteAllText(Path.Combine(sentinel, "deep", "keep.txt"), "keep\n");
        TestUser.Run("chown", "-R", $"{_user.Uid}:{_user.Gid}", sentinel);
        byte[] input = RandomBytes(1_500_000, 2);
        File.WriteAllBytes(_p.PathIn("input.bin"), input);
        string baseHash = SandboxProject.TreeHash(_p.BaseDir);
        string sentinelHash = SandboxProject.TreeHash(sentinel);

        var r = RunScript($$"""
            echo "uid $(id -u) gid $(id -g)"
            cp {{_p.PathIn("input.bin")}} written.bin && echo appended >> README && rm data.bin && mkdir -p new/dir
            echo "owner $(stat -c %u:%g written.bin) $(stat -c %u:%g new/dir) $(stat -c %u:%g src/main.c)"
            for target in {{sentinel}}/deep/keep.txt {{sentinel}}/new.txt $HOME/new.txt /run/agentfs/base/README /usr/new.txt; do
                if ( echo x >> "$target" ) 2>/dev/null; then echo "wrote $target"; fi
            done
            touch {{sentinel}}/deep/keep.txt 2>&1 | grep -c -E 'Read-only file system|Permission denied'
            agentfs checkpoint "$AGENTFS_STORE" -m "from inside"
            exit 42
            """);

        Assert.True(r.ExitCode == 42, r.ToString()); // the command's exit code passes through
        Assert.Equal($"uid {_user.Uid} gid {_user.Gid}\nowner {_user.Uid}:{_user.Gid} {_user.Uid}:{_user.Gid} {_user.Uid}:{_user.Gid}\n1\n1\n", r.Stdout);
        Assert.Equal(input, SessionFile("written.bin"));
        Assert.Equal("the project\nappended\n", System.Text.Encoding.UTF8.GetString(SessionFile("README")));
        Assert.Equal(baseHash, SandboxProject.TreeHash(_p.BaseDir));
        Assert.Equal(sentinelHash, SandboxProject.TreeHash(sentinel));
        Assert.False(File.Exists(Path.Combine(_user.Home, "new.txt")));
        Assert.Contains($"\"uid\": {_user.Uid}", _user.Agent(_p.Root, "fs", _p.StorePath, "stat", "written.bin", "--json").Stdout);
        var log = _user.Agent(_p.Root, "log", _p.StorePath);
        Assert.Contains("from inside", log.Stdout);
        // Nothing of it is left: no mount in any namespace, and the branch is free for the next run.
        Assert.Empty(SandboxProject.ProcessesSeeingMountAt(_p.BaseDir));
        var again = RunScript("cat README");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal("the project\nappended\n", again.Stdout);
    }

    [Theory]
    [InlineData("KILL")]
    [InlineData("TERM")]
    public void A_signal_to_an_unprivileged_run_leaves_no_process_no_mount_and_no_lease(string signal)
    {
        _user.GrantFuseDevice();
        string marker = $"32{Random.Shared.Next(100000, 999999)}";
        using var run = _user.Start(_p.BaseDir, "run", _p.StorePath, "--", "bash", "-c",
            $"echo before-kill > written.txt; sync written.txt; echo unsynced > pending.txt; sleep {marker} & echo ready; wait");
        run.StandardInput.Close();
        SandboxProject.WaitForLine(run, "ready");
        Assert.NotEmpty(SandboxProject.ProcessesWith("sleep " + marker));
        Assert.Contains(_p.StorePath, _user.Agent(_p.Root, "status").Stdout);

        Process.Start("kill", ["-" + signal, run.Id.ToString()])!.WaitForExit();
        Assert.True(run.WaitForExit(30_000), "agentfs run did not end after SIG" + signal);
        if (signal == "TERM")
        {
            Assert.Equal(143, run.ExitCode);
            // What was still in the kernel's cache when the signal came was committed too.
            Assert.Equal("unsynced\n", System.Text.Encoding.UTF8.GetString(SessionFile("pending.txt")));
        }

        Assert.True(SandboxProject.Eventually(() => SandboxProject.ProcessesWith("sleep " + marker).Count == 0),
            "a process of the sandbox survived: " + string.Join(',', SandboxProject.ProcessesWith("sleep " + marker)));
        Assert.True(SandboxProject.Eventually(() => SandboxProject.ProcessesSeeingMountAt(_p.BaseDir).Count == 0),
            "a mount at the project survived in processes " + string.Join(',', SandboxProject.ProcessesSeeingMountAt(_p.BaseDir)));
        Assert.DoesNotContain(_p.StorePath, _user.Agent(_p.Root, "status").Stdout);
        var again = RunScript("cat written.txt");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal("before-kill\n", again.Stdout);
    }

    [Fact]
    public void Without_access_to_dev_fuse_one_line_names_it_and_what_to_do()
    {
        _user.DenyFuseDevice(); // mode 0600, root's: as on these machines
        string baseHash = SandboxProject.TreeHash(_p.BaseDir);

        RunScript("echo ran").IsUserError("/dev/fuse", "mode 0600", "chmod 0666 /dev/fuse");

        Assert.Empty(SandboxProject.ProcessesSeeingMountAt(_p.BaseDir));
        Assert.Equal(baseHash, SandboxProject.TreeHash(_p.BaseDir));
        _user.GrantFuseDevice();
        Assert.Equal("ran\n", RunScript("echo ran").Stdout); // the branch is free
    }

    [Fact]
    public void Without_user_namespaces_one_line_names_the_sysctl()
    {
        _user.GrantFuseDevice();
        // A user namespace of the test's (mapping every uid to itself) where user.max_user_namespaces is 0: the
        // user runs in it as everywhere else, but the kernel lets it create no user namespace. The host's sysctl,
        // which the other tests on this machine depend on, stays as it is.
        using var p = _user.StartCommand(_p.BaseDir,
            // The maps are written once it runs, so only the next exec (as the namespace's root) gets its capabilities.
            ["unshare", "--user", "--", "bash", "-c",
                "read -r _ && exec bash -c 'echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"' limit \"$@\"", "wait"],
            ["bash", "-c", "unshare --user true 2>/dev/null && echo 'user namespaces still work'; exec \"$@\"", "try",
                .. _user.ProgramCommand, "run", _p.StorePath, "--", "echo", "ran"]);
        // The maps can be written once unshare has made the namespace (before, the process is in ours: EPERM).
        string ours = new FileInfo("/proc/self/ns/user").LinkTarget!;
        Assert.True(SandboxProject.Eventually(() => new FileInfo($"/proc/{p.Id}/ns/user").LinkTarget is { } ns && ns != ours),
            "the test's user namespace was not made");
        foreach (string map in (string[])["uid_map", "gid_map"])
            File.WriteAllText($"/proc/{p.Id}/{map}", "0 0 4294967295\n");
        p.StandardInput.WriteLine("go");
        p.StandardInput.Close();
        var err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000));
        var r = new RunResult(p.ExitCode, stdout, err.Result);

        Assert.DoesNotContain("still work", r.Stdout);
        r.IsUserError("user.max_user_namespaces = 0", "sysctl -w user.max_user_namespaces=");
        Assert.Empty(SandboxProject.ProcessesSeeingMountAt(_p.BaseDir));
    }

    [Theory]
    [InlineData("kernel.unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone=1")]
    [InlineData("user.max_user_namespaces", "2", "user.max_user_namespaces=15000")]
    [InlineData("kernel.apparmor_restrict_unprivileged_userns", "1", "kernel.apparmor_restrict_unprivileged_userns=0")]
    [InlineData("kernel.yama.ptrace_scope", "2", "kernel.yama.ptrace_scope=1")]
    public void Each_kernel_setting_that_forbids_it_is_named_with_the_command_that_allows_it(string sysctl, string value, string fix)
    {
        // The settings of other distributions, which this machine cannot show (the sysctl that forbids it here is
        // tested for real above).
        string? problem = UnprivilegedMode.Problem(name => name == sysctl ? value : null, () => null);
        Assert.NotNull(problem);
        Assert.Contains($"{sysctl} = {value}", problem);
        Assert.Contains("sysctl -w " + fix, problem);
        Assert.DoesNotContain('\n', problem);
        // The same settings where they allow it.
        Assert.Null(UnprivilegedMode.Problem(name => name switch
        {
            "kernel.unprivileged_userns_clone" => "1",
            "user.max_user_namespaces" => "15000",
            "kernel.apparmor_restrict_unprivileged_userns" => "0",
            "kernel.yama.ptrace_scope" => "1",
            _ => null,
        }, () => null));
    }
}
