namespace AgentFs.EndToEnd.Tests;

/// <summary>Real programs on a real mount, their results checked byte for byte.</summary>
public class RealToolsTests
{
    private static void SampleBase(string b)
    {
        Directory.CreateDirectory(Path.Combine(b, "src/lib"));
        File.WriteAllText(Path.Combine(b, "src/main.c"), "int main(void) { return 0; }\n");
        File.WriteAllText(Path.Combine(b, "src/lib/util.h"), "#define X 1\n");
        var big = new byte[3_000_000];
        new Random(7).NextBytes(big);
        File.WriteAllBytes(Path.Combine(b, "blob.bin"), big);
        File.CreateSymbolicLink(Path.Combine(b, "link"), "src/main.c");
    }

    [Fact]
    public void GitInitAddCommitStatus()
    {
        using var m = new MountedStore(SampleBase);
        m.Sh("git init -q && git add -A && git commit -qm base");
        m.Sh("echo 'int y;' >> src/main.c && git mv src/lib/util.h src/util.h && git commit -qam change");
        Assert.Equal("", m.Sh("git status --porcelain"));
        Assert.Equal("2", m.Sh("git rev-list --count HEAD").Trim());
        m.Sh("git fsck --strict 2>&1");
        Assert.Contains("int y;", File.ReadAllText(m.P("src/main.c")));
    }

    [Fact]
    public void TarExtractMatchesDiffR()
    {
        using var m = new MountedStore(SampleBase);
        string src = Path.Combine(m.Root, "tree");
        Directory.CreateDirectory(src);
        m.Sh("mkdir -p a/b/c && for i in $(seq 1 200); do head -c $((i * 97)) /dev/urandom > a/b/f$i; done && " +
             "ln -s b/f1 a/l && ln a/b/f2 a/hard && mkfifo a/fifo && chmod 741 a/b/f3 && tar -C . -cf ../t.tar a", cwd: src);
        m.Sh($"tar -xf {m.Root}/t.tar");
        m.Sh($"diff -r --no-dereference -x fifo {src}/a a");
        Assert.Equal(m.Sh($"cd {src} && find a -printf '%p %y %m %s %l\\n' | sort"), m.Sh("find a -printf '%p %y %m %s %l\\n' | sort"));
        Assert.Equal(m.Sh("stat -c %i a/b/f2").Trim(), m.Sh("stat -c %i a/hard").Trim());
    }

    [Fact]
    public void Sqlite3IntegrityCheck()
    {
        using var m = new MountedStore();
        m.Sh("sqlite3 db.sqlite 'PRAGMA journal_mode=WAL; CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT); " +
             "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 20000) INSERT INTO t SELECT x, hex(randomblob(40)) FROM c;'");
        m.Sh("sqlite3 db.sqlite 'DELETE FROM t WHERE a % 3 = 0; VACUUM;'");
        Assert.Equal("ok", m.Sh("sqlite3 db.sqlite 'PRAGMA integrity_check'").Trim());
        Assert.Equal("13334", m.Sh("sqlite3 db.sqlite 'SELECT count(*) FROM t'").Trim());
        m.Unmount();
        m.Mount();
        Assert.Equal("ok", m.Sh("sqlite3 db.sqlite 'PRAGMA integrity_check'").Trim());
    }

    [Fact]
    public void CpDashAOfATreeAndRemountKeepsEverything()
    {
        using var m = new MountedStore(SampleBase);
        m.Sh("cp -a src copy && cp -a blob.bin blob2.bin && echo more >> blob2.bin && rm link && ln -s copy/main.c link2");
        const string listing = "find . -printf '%p %y %m %s %n %T@ %l\\n' | sort && find . -type f -exec sha256sum {} + | sort";
        string before = m.Sh(listing);
        m.Sh("diff -r src copy && cmp <(head -c 3000000 blob2.bin) blob.bin");
        m.Unmount();
        Assert.Empty(Directory.EnumerateFileSystemEntries(m.MountPoint));
        m.Mount();
        Assert.Equal(before, m.Sh(listing));
    }

    [Fact]
    public void ManyProcessesReadAndWriteAtOnce()
    {
        using var m = new MountedStore(SampleBase);
        // 6 writers on their own files, 2 appenders on one shared file, 4 readers of a base file, all at once.
        string script = string.Join(" & ", Enumerable.Range(0, 6).Select(i =>
                $"(for j in $(seq 1 60); do head -c $((j * 1000)) /dev/zero | tr '\\0' '{(char)('a' + i)}' > w{i}_$j; done)"))
            + " & " + string.Join(" & ", Enumerable.Range(0, 2).Select(i => $"(for j in $(seq 1 200); do echo line{i}_$j >> shared.log; done)"))
            + " & " + string.Join(" & ", Enumerable.Range(0, 4).Select(_ => "(for j in $(seq 1 20); do cmp blob.bin blob.bin >/dev/null && cat blob.bin > /dev/null; done)"))
            + " & wait";
        m.Sh(script, timeoutSeconds: 300);
        for (int i = 0; i < 6; i++)
            for (int j = 1; j <= 60; j++)
            {
                var data = File.ReadAllBytes(m.P($"w{i}_{j}"));
                Assert.Equal(j * 1000, data.Length);
                Assert.True(data.AsSpan().IndexOfAnyExcept((byte)('a' + i)) < 0);
            }
        var lines = File.ReadAllLines(m.P("shared.log"));
        Assert.Equal(400, lines.Length);
        Assert.Equal(400, lines.Distinct().Count());
        m.Unmount();
        m.Mount();
        Assert.Equal(400, File.ReadAllLines(m.P("shared.log")).Length);
    }
}
