using AgentFs.Fuse;
using AgentFs.Fuse.Protocol;

namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// Directory listings the kernel keeps (FOPEN_CACHE_DIR with KEEP_CACHE): a directory read again while unchanged
/// costs the daemon no READDIR, and every change, through the mount or behind it (a rollback), shows in the next
/// listing. `git status` and tree scans are readdir-bound.
/// </summary>
public class DirectoryCacheTests
{
    private static readonly string Agentfs = MountedStore.AgentfsCommand;

    private static void FillBase(string dir)
    {
        Directory.CreateDirectory(Path.Combine(dir, "d"));
        for (int i = 0; i < 60; i++) File.WriteAllText(Path.Combine(dir, "d", $"f{i:00}"), $"{i}\n");
    }

    private static long Listings(FuseRequestStats stats) => stats.Count(FuseOpcode.ReadDir) + stats.Count(FuseOpcode.ReadDirPlus);

    [Fact]
    public void An_unchanged_directory_is_listed_from_the_kernels_cache_and_changes_show()
    {
        using var m = new MountedStore(FillBase);
        m.Unmount();
        using var mount = AgentMount.Mount(m.StorePath, m.MountPoint, new AgentMountOptions { CollectStats = true });
        var stats = mount.Session.Stats!;
        string expected = string.Join("\n", Enumerable.Range(0, 60).Select(i => $"f{i:00}")) + "\n";
        // The first listing fills the kernel's cache; the kernel may take it once more when the directory's
        // attributes it compares against (mtime, version) were refreshed in between.
        for (int i = 0; i < 2; i++) Assert.Equal(expected, m.Sh("ls d"));

        stats.Reset();
        for (int i = 0; i < 5; i++) Assert.Equal(expected, m.Sh("ls d"));
        Assert.True(Listings(stats) == 0, "an unchanged directory was read from the daemon again:\n" + stats.Format());

        // Changes made through the mount: the kernel drops its listing itself.
        m.Sh("touch d/new && rm d/f01 && mv d/f02 d/g02 && mkdir d/sub && ln -s f03 d/link");
        string changed = m.Sh("ls d");
        Assert.Contains("new\n", changed);
        Assert.Contains("g02\n", changed);
        Assert.Contains("sub\n", changed);
        Assert.Contains("link\n", changed);
        Assert.DoesNotContain("f01\n", changed);
        Assert.DoesNotContain("f02\n", changed);
        Assert.Equal(changed, m.Sh("ls d")); // and caches the new one

        // A change behind the kernel: a rollback through the control socket.
        string cp = m.Sh($"{Agentfs} checkpoint {m.StorePath} -m before | tail -1").Trim();
        m.Sh("touch d/after && rm d/f04");
        string after = m.Sh("ls d");
        Assert.Contains("after\n", after);
        Assert.DoesNotContain("f04\n", after);
        m.Sh($"{Agentfs} rollback {m.StorePath} {cp} >/dev/null");
        Assert.Equal(changed, m.Sh("ls d"));
        Assert.Equal(changed, m.Sh("ls d"));
    }

    [Fact]
    public void Directories_are_read_without_opendir_and_concurrent_readers_see_every_entry()
    {
        using var m = new MountedStore(FillBase);
        m.Unmount();
        using var mount = AgentMount.Mount(m.StorePath, m.MountPoint, new AgentMountOptions { CollectStats = true });
        var stats = mount.Session.Stats!;
        // Larger than one READDIR reply, so each listing takes several requests, read on by offset.
        m.Sh("mkdir big && cd big && for i in $(seq 1 1500); do : > name-$i-with-a-long-tail-to-fill-the-buffer; done && mkdir -p ../a/b/c");
        stats.Reset();
        for (int i = 0; i < 3; i++) m.Sh("ls -R . > /dev/null && find . > /dev/null");
        Assert.True(stats.Count(FuseOpcode.OpenDir) <= 1, stats.Format()); // answered ENOSYS once, then never sent
        Assert.Equal(0, stats.Count(FuseOpcode.ReleaseDir));

        // Two readers of one directory, interleaved, each from its own opendir, one of them rewinding: every
        // reader sees every entry exactly once, also when the directory changes in between and the kernel's
        // listing is dropped.
        string script = """
            import os, sys
            d = sys.argv[1]
            def names(it): return [e.name for e in it]
            a, b = os.scandir(d), os.scandir(d)
            seen_a, seen_b = [], []
            for x, y in zip(a, b):
                seen_a.append(x.name); seen_b.append(y.name)
            seen_a += names(a); seen_b += names(b)
            open(os.path.join(d, "added-later"), "w").close()
            c = os.scandir(d)
            first = [next(c).name for _ in range(700)]
            os.unlink(os.path.join(d, "added-later"))
            rest = names(c)
            assert len(seen_a) == len(set(seen_a)) == 1500, len(seen_a)
            assert sorted(seen_a) == sorted(seen_b)
            got = first + rest
            assert len(got) == len(set(got)), "an entry came twice"
            assert set(seen_a) <= set(got), "an entry that did not change was skipped"
            print("ok")
            """;
        File.WriteAllText(Path.Combine(m.Root, "readers.py"), script);
        for (int i = 0; i < 3; i++)
            Assert.Equal("ok\n", m.Sh($"python3 {m.Root}/readers.py big"));
        Assert.Equal(1500, Directory.GetFiles(m.P("big")).Length);
    }
}
