using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;
using static AgentFs.Tests.Backup.BackupTestKit;

namespace AgentFs.Tests.Backup;

public class BackupTests(ITestOutputHelper output)
{
    private static byte[] SeqContent(int n) => Encoding.UTF8.GetBytes($"entry {n}\n" + new string('x', n % 5000));

    [Fact]
    public void Backup_taken_while_another_store_object_writes_is_one_committed_state()
    {
        using var t = new TempStore();
        t.WriteBase("readme.txt", "base\n");
        using var writerStore = t.Create(new StoreOptions { CommitInterval = TimeSpan.FromMilliseconds(20) });
        using var fs = writerStore.OpenFileSystem("main");
        var rnd = new Random(7);
        fs.CreateDirectory("bulk");
        var bulk = new byte[128][];
        for (int i = 0; i < bulk.Length; i++)
        {
            bulk[i] = new byte[256 * 1024];
            rnd.NextBytes(bulk[i]);
            fs.WriteAllBytes($"bulk/{i:D3}", bulk[i]);
        }
        fs.CreateDirectory("seq");
        fs.Flush();

        // The writer: files seq/000000, seq/000001, ... in order, each a create and a write, committed every 20 ms.
        int written = 0;
        long slowestFlushMs = 0;
        bool stop = false;
        Exception? writerError = null;
        var writer = new Thread(() =>
        {
            try
            {
                for (int n = 0; !Volatile.Read(ref stop); n++)
                {
                    fs.WriteAllBytes($"seq/{n:D6}", SeqContent(n));
                    Volatile.Write(ref written, n + 1);
                    if (n % 25 == 0)
                    {
                        var sw = Stopwatch.StartNew();
                        fs.Flush(durable: false);
                        slowestFlushMs = Math.Max(slowestFlushMs, sw.ElapsedMilliseconds);
                    }
                    Thread.Sleep(1);
                }
            }
            catch (Exception e) { writerError = e; }
        });
        writer.Start();
        while (Volatile.Read(ref written) < 50) Thread.Sleep(5);

        string outPath = Path.Combine(t.Root, "backup.agentfs");
        int steps = 0, writtenAtStart = Volatile.Read(ref written);
        BackupResult result;
        using (var reader = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true }))
        {
            slowestFlushMs = 0;
            result = reader.Backup(outPath, progress: new SyncProgress<BackupProgress>(p =>
            {
                steps++;
                Thread.Sleep(40); // make the copy last long enough for many commits to happen meanwhile
            }));
        }
        int writtenAtEnd = Volatile.Read(ref written);
        Volatile.Write(ref stop, true);
        writer.Join();
        Assert.Null(writerError);
        output.WriteLine($"backup: {result.PageCount} pages in {steps} steps, {result.Elapsed.TotalMilliseconds:F0} ms; " +
                         $"writer wrote {writtenAtEnd - writtenAtStart} files meanwhile, slowest commit {slowestFlushMs} ms");
        Assert.True(steps >= 8, $"only {steps} steps");
        Assert.True(writtenAtEnd - writtenAtStart > 20, "the writer made no progress during the backup");
        Assert.True(slowestFlushMs < 2000, $"a commit took {slowestFlushMs} ms during the backup");

        Assert.Equal(new[] { "backup.agentfs" }, FilesNamedLike(outPath));
        Assert.Equal("ok", QuickCheck(outPath));
        Assert.Equal(0, Count(outPath, "leases"));
        Assert.Equal(1, Count(t.StorePath, "leases")); // the writer's, which the copy must not carry
        Assert.Equal(1, result.LeasesCleared);

        using var copy = AgentStore.Open(outPath, new StoreOptions { ReadOnly = true });
        using var view = copy.OpenFileSystem("main", readOnly: true);
        Assert.Equal("base\n", view.ReadAllText("readme.txt"));
        for (int i = 0; i < bulk.Length; i++) Assert.Equal(bulk[i], view.ReadAllBytes($"bulk/{i:D3}"));
        // A committed state is the result of a prefix of the writer's operations: seq/0..k-1 complete, and
        // seq/k absent, or present and empty (its create committed before its write).
        var names = view.Enumerate("seq").Select(e => e.NameString).ToList();
        for (int n = 0; n < names.Count; n++)
        {
            Assert.Equal($"{n:D6}", names[n]);
            var data = view.ReadAllBytes($"seq/{names[n]}");
            if (n < names.Count - 1 || data.Length > 0) Assert.Equal(SeqContent(n), data);
        }
        Assert.InRange(names.Count, writtenAtStart - 50, writtenAtEnd - 1); // taken at the start (less what was not committed yet), not at the end
    }

    [Fact]
    public void Backup_includes_what_this_process_wrote_through_its_own_open_branch()
    {
        using var t = new TempStore();
        using var store = t.Create(new StoreOptions { CommitInterval = TimeSpan.FromSeconds(1) });
        using var fs = store.OpenFileSystem("main");
        fs.WriteAllText("fresh.txt", "not committed yet");
        string outPath = Path.Combine(t.Root, "b.agentfs");
        store.Backup(outPath);
        using var copy = AgentStore.Open(outPath, new StoreOptions { ReadOnly = true });
        using var view = copy.OpenFileSystem("main", readOnly: true);
        Assert.Equal("not committed yet", view.ReadAllText("fresh.txt"));
    }

    [Fact]
    public void Backup_refuses_an_existing_target_unless_overwriting_an_earlier_backup()
    {
        using var t = new TempStore();
        using (var s = t.Create())
        using (var fs = s.OpenFileSystem())
            fs.WriteAllText("a", "1");
        using var store = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        string other = Path.Combine(t.Root, "notes.txt");
        File.WriteAllText(other, "precious");
        var e = Assert.Throws<AgentFsException>(() => store.Backup(other));
        Assert.Equal(Errno.EEXIST, e.Errno);
        Assert.Contains(other, e.Message);
        e = Assert.Throws<AgentFsException>(() => store.Backup(other, overwrite: true));
        Assert.Contains("not an AgentFs store", e.Message);
        Assert.Equal("precious", File.ReadAllText(other));

        string outPath = Path.Combine(t.Root, "b.agentfs");
        store.Backup(outPath);
        string first = FileHash(outPath);
        Assert.Equal(Errno.EEXIST, Assert.Throws<AgentFsException>(() => store.Backup(outPath)).Errno);
        Assert.Equal(first, FileHash(outPath));
        store.Backup(outPath, overwrite: true);
        Assert.Equal(new[] { "b.agentfs" }, FilesNamedLike(outPath));
        Assert.Equal("ok", QuickCheck(outPath));

        e = Assert.Throws<AgentFsException>(() => store.Backup(t.StorePath, overwrite: true));
        Assert.Contains("is the store itself", e.Message);
        Assert.Equal(Errno.EISDIR, Assert.Throws<AgentFsException>(() => store.Backup(t.BaseDir)).Errno);
    }

    [Fact]
    public void Backup_to_an_unwritable_place_fails_clearly_and_leaves_nothing()
    {
        using var t = new TempStore();
        t.Create().Dispose();
        using var store = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        var e = Assert.Throws<AgentFsException>(() => store.Backup(Path.Combine(t.Root, "missing", "b.agentfs")));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains("does not exist", e.Message);
        string file = Path.Combine(t.Root, "file");
        File.WriteAllText(file, "x");
        Assert.Equal(Errno.ENOTDIR, Assert.Throws<AgentFsException>(() => store.Backup(Path.Combine(file, "b.agentfs"))).Errno);

        using var dir = new UnwritableDirectory(t.Root);
        if (!dir.Usable) return; // no way to make an unwritable directory here (chattr unsupported)
        string target = Path.Combine(dir.Path, "b.agentfs");
        e = Assert.Throws<AgentFsException>(() => store.Backup(target));
        Assert.Contains(target, e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void A_cancelled_backup_leaves_neither_the_target_nor_its_temporary_file()
    {
        using var t = new TempStore();
        using (var s = t.Create())
        using (var fs = s.OpenFileSystem())
        {
            var data = new byte[64 * 1024];
            for (int i = 0; i < 200; i++) { Random.Shared.NextBytes(data); fs.WriteAllBytes($"f{i}", data); }
        }
        using var store = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        string outPath = Path.Combine(t.Root, "b.agentfs");
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            store.Backup(outPath, progress: new SyncProgress<BackupProgress>(p => { if (p.PagesCopied > 0) cts.Cancel(); }), cancellationToken: cts.Token));
        Assert.Empty(FilesNamedLike(outPath));
    }

    [Fact]
    public void Progress_counts_pages_up_to_the_total()
    {
        using var t = new TempStore();
        using (var s = t.Create())
        using (var fs = s.OpenFileSystem())
        {
            var data = new byte[20 << 20];
            new Random(3).NextBytes(data);
            fs.WriteAllBytes("big", data);
        }
        using var store = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        var seen = new List<BackupProgress>();
        var r = store.Backup(Path.Combine(t.Root, "b.agentfs"), progress: new SyncProgress<BackupProgress>(seen.Add));
        Assert.True(seen.Count > 1);
        Assert.Equal(seen.Select(p => p.PagesCopied).Order(), seen.Select(p => p.PagesCopied));
        Assert.Equal(r.PageCount, seen[^1].PagesCopied);
        Assert.Equal(seen[^1].PageCount, seen[^1].PagesCopied);
        Assert.Equal(16384, r.PageSize);
        Assert.Equal(t.BaseDir, r.BaseDirectory);
    }
}
