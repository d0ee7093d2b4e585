namespace AgentFs.Tests;

public class ConcurrencyTests
{
    [Fact]
    public void ManyThreadsWriteAndReadWhileCommitsRun()
    {
        using var t = new TempStore();
        for (int i = 0; i < 20; i++) t.WriteBase($"shared/s{i}.txt", $"base {i}");
        using var store = t.Create(new StoreOptions { CommitInterval = TimeSpan.FromMilliseconds(20), MaxDirtyBytes = 1 << 20 });
        using var fs = store.OpenFileSystem();
        const int threads = 8, files = 150;
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var workers = Enumerable.Range(0, threads).Select(w => new Thread(() =>
        {
            try
            {
                fs.CreateDirectory($"w{w}");
                var rnd = new Random(w);
                for (int i = 0; i < files; i++)
                {
                    var data = new byte[rnd.Next(1, 70_000)];
                    rnd.NextBytes(data);
                    fs.WriteAllBytes($"w{w}/f{i}", data);
                    if (!fs.ReadAllBytes($"w{w}/f{i}").AsSpan().SequenceEqual(data)) errors.Enqueue($"w{w}/f{i} read back differs");
                    string s = fs.ReadAllText($"shared/s{i % 20}.txt");
                    if (!s.StartsWith("base ")) errors.Enqueue($"shared read gave {s}");
                    if (i % 10 == 0) fs.Move($"w{w}/f{i}", $"w{w}/moved{i}");
                    if (i % 15 == 7) fs.Delete($"w{w}/f{i}");
                }
            }
            catch (Exception e) { errors.Enqueue(e.ToString()); }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Assert.Empty(errors);
        fs.Flush();
        using var ro = store.OpenFileSystem("main", readOnly: true);
        for (int w = 0; w < threads; w++)
            Assert.Equal(fs.Enumerate($"w{w}").Select(e => e.NameString), ro.Enumerate($"w{w}").Select(e => e.NameString));
    }

    [Fact]
    public void CommittedChangesSurviveReopenAndReadersSeeThemWhileWriting()
    {
        using var t = new TempStore();
        using (var store = t.Create(new StoreOptions { CommitInterval = TimeSpan.FromMilliseconds(50) }))
        using (var fs = store.OpenFileSystem())
        {
            fs.WriteAllText("a", "1");
            // A second store object (as another process would) sees it within the commit interval.
            using var other = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (true)
            {
                using var ro = other.OpenFileSystem("main", readOnly: true);
                if (ro.Exists("a")) { Assert.Equal("1", ro.ReadAllText("a")); break; }
                Assert.True(DateTime.UtcNow < deadline, "the change was not committed within 5 s");
                Thread.Sleep(20);
            }
            fs.WriteAllText("b", "2");
            fs.Fsync();
        }
        using (var store = AgentStore.Open(t.StorePath))
        using (var fs = store.OpenFileSystem(readOnly: true))
        {
            Assert.Equal("1", fs.ReadAllText("a"));
            Assert.Equal("2", fs.ReadAllText("b"));
        }
    }
}
