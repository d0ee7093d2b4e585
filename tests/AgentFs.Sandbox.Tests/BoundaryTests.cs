namespace AgentFs.Sandbox.Tests;

/// <summary>What a command in `agentfs run` can see and change: the session at the project's path, nothing else.</summary>
public sealed class BoundaryTests : IDisposable
{
    private readonly SandboxProject _p = new();

    public void Dispose() => _p.Dispose();

    [Fact]
    public void Writes_land_in_the_session_and_never_in_the_base_or_elsewhere_on_the_host()
    {
        string sentinel = _p.PathIn("sentinel");
        Directory.CreateDirectory(Path.Combine(sentinel, "deep"));
        File.WriteAllText(Path.Combine(sentinel, "deep", "keep.txt"), "keep me\n");
        string sentinelHash = SandboxProject.TreeHash(sentinel), baseHash = SandboxProject.TreeHash(_p.BaseDir);

        var r = _p.RunScript($"""
            set -u
            echo changed > README && echo new > src/new.c && mkdir -p build && echo obj > build/main.o
            for target in {sentinel}/deep/keep.txt {sentinel}/added /etc/agentfs-test /usr/agentfs-test /root/agentfs-test; do
              if (echo x > "$target") 2>/dev/null; then echo "WROTE $target"; else echo "refused $target"; fi
            done
            rm -rf {sentinel} 2>/dev/null; mkdir {sentinel}/d 2>/dev/null; chmod 777 {sentinel}/deep/keep.txt 2>/dev/null
            touch {sentinel}/deep/keep.txt 2>&1 | grep -c "Read-only file system"
            cat README
            """);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("WROTE", r.Stdout);
        Assert.Equal(5, r.Stdout.Split('\n').Count(l => l.StartsWith("refused ")));
        Assert.Contains("1\nchanged\n", r.Stdout); // EROFS, then the session's README
        Assert.Equal(sentinelHash, SandboxProject.TreeHash(sentinel));
        Assert.Equal(baseHash, SandboxProject.TreeHash(_p.BaseDir));
        Assert.False(File.Exists("/etc/agentfs-test"));

        Assert.Equal("changed\n", _p.Agent("fs", _p.StorePath, "cat", "README").Stdout);
        Assert.Equal("new\n", _p.Agent("fs", _p.StorePath, "cat", "src/new.c").Stdout);
        Assert.Equal("obj\n", _p.Agent("fs", _p.StorePath, "cat", "build/main.o").Stdout);
        Assert.Equal("the project\n", File.ReadAllText(Path.Combine(_p.BaseDir, "README")));
    }

    [Fact]
    public void Tmp_dev_shm_and_run_are_private_and_empty()
    {
        string hostTmp = Path.Combine("/tmp", $"agentfs-host-{Guid.NewGuid():N}");
        string hostShm = Path.Combine("/dev/shm", $"agentfs-host-{Guid.NewGuid():N}");
        File.WriteAllText(hostTmp, "host");
        File.WriteAllText(hostShm, "host");
        try
        {
            var r = _p.RunScript("""
                echo $(ls -A /tmp); ls -A /dev/shm | wc -l
                echo inside > /tmp/inside-file && echo inside > /dev/shm/inside-file && cat /tmp/inside-file
                ls /proc | grep -E '^[0-9]+$' | wc -l
                ls -A /run; ls -A /run/agentfs | grep -c '^ctl-'
                """);
            Assert.True(r.ExitCode == 0, r.ToString());
            var lines = r.Stdout.Split('\n');
            Assert.Equal(Path.GetFileName(_p.Root), lines[0]); // /tmp: only the store's directory (read-only), which lies in /tmp here
            Assert.Equal("0", lines[1].Trim());
            Assert.Equal("inside", lines[2]);
            Assert.True(int.Parse(lines[3].Trim()) <= 6, "only the sandbox's processes in /proc: " + r.Stdout);
            Assert.Equal("agentfs", lines[4]); // /run: only our runtime directory (not the host's sockets)
            Assert.Equal("1", lines[5].Trim()); // and in it only this session's control socket
            Assert.False(File.Exists("/tmp/inside-file") && File.ReadAllText("/tmp/inside-file") == "inside\n");
            Assert.False(File.Exists("/dev/shm/inside-file"));
        }
        finally
        {
            File.Delete(hostTmp);
            File.Delete(hostShm);
        }
    }

    [Fact]
    public void Bind_makes_a_host_path_writable_ro_keeps_part_of_it_read_only_hide_empties_a_path()
    {
        string cache = _p.PathIn("cache"), locked = Path.Combine(cache, "locked");
        Directory.CreateDirectory(locked);
        string secrets = _p.PathIn("secrets");
        Directory.CreateDirectory(secrets);
        File.WriteAllText(Path.Combine(secrets, "id_rsa"), "PRIVATE");
        File.WriteAllText(Path.Combine(_p.BaseDir, ".env"), "TOKEN=secret\n");

        var r = _p.RunScript($"""
            echo cached > {cache}/entry
            (echo no > {locked}/x) 2>/dev/null && echo "WROTE locked" || echo "locked refused"
            ls -A {secrets} | wc -l
            wc -c < .env
            """, "--bind", cache, "--ro", locked, "--hide", secrets, "--hide", Path.Combine(_p.BaseDir, ".env"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(["locked refused", "0", "0"], r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[..3].Select(s => s.Trim()));
        Assert.Equal("cached\n", File.ReadAllText(Path.Combine(cache, "entry")));
        Assert.False(File.Exists(Path.Combine(locked, "x")));
        Assert.Equal("PRIVATE", File.ReadAllText(Path.Combine(secrets, "id_rsa")));
    }

    [Fact]
    public void A_bind_inside_the_project_or_over_the_store_is_refused()
    {
        _p.Agent("run", _p.StorePath, "--bind", Path.Combine(_p.BaseDir, "src"), "--", "true").IsUserError("--bind", "inside the session");
        _p.Agent("run", _p.StorePath, "--bind", _p.Root, "--", "true").IsUserError("--bind", "store");
    }

    [Fact]
    public void The_working_directory_is_kept_inside_the_project_else_it_is_the_project()
    {
        var inside = _p.AgentIn(Path.Combine(_p.BaseDir, "src"), "run", _p.StorePath, "--", "pwd");
        Assert.Equal(Path.Combine(_p.BaseDir, "src") + "\n", inside.Stdout);
        var outside = _p.AgentIn(_p.Root, "run", _p.StorePath, "--", "pwd");
        Assert.Equal(_p.BaseDir + "\n", outside.Stdout);
    }

    [Fact]
    public void The_environment_is_passed_through_with_env_and_unset_env_applied()
    {
        var r = _p.RunScript("echo \"[$HOME] [${FOO-unset}] [${LANG-unset}] [$AGENTFS_BRANCH]\"; command -v agentfs",
            "--env", "FOO=bar=baz", "--unset-env", "LANG", "--env", "LANG=C.UTF-8", "--unset-env", "HOME");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("[] [bar=baz] [C.UTF-8] [main]\n/run/agentfs/bin/agentfs\n", r.Stdout);
    }

    [Fact]
    public void The_exit_code_is_the_commands_and_127_when_it_is_not_found()
    {
        Assert.Equal(42, _p.RunScript("exit 42").ExitCode);
        Assert.Equal(0, _p.Agent("run", _p.StorePath, "--", "true").ExitCode);
        Assert.Equal(137, _p.RunScript("kill -9 $$").ExitCode);

        var missing = _p.Agent("run", _p.StorePath, "--", "no-such-command-xyz", "arg");
        Assert.Equal(127, missing.ExitCode);
        Assert.Single(missing.StderrLines);
        Assert.Equal("agentfs: no-such-command-xyz: command not found in the sandbox", missing.StderrLines[0].Split(" (PATH=")[0]);
        Assert.Empty(missing.Stdout);
    }

    [Fact]
    public void Terminal_injection_is_refused()
    {
        // TIOCSTI on a file that is no terminal fails with ENOTTY when allowed; the filter refuses it first (EPERM).
        var r = _p.RunScript("""
            python3 -c '
            import fcntl, termios, errno, sys
            for req in (termios.TIOCSTI, 0x541C):
                try: fcntl.ioctl(0, req, b"x")
                except OSError as e: print(errno.errorcode[e.errno])
            try: fcntl.ioctl(0, termios.TCGETS, bytes(64))
            except OSError as e: print(errno.errorcode[e.errno])
            '
            """);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("EPERM\nEPERM\nENOTTY\n", r.Stdout);
    }
}
