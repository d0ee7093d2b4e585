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
    public void ReadersNeverGoBackToAnOlderVersionWhileCommitsRun()
    {
        // Writers give base files and new files ever larger sizes (the version) while commits run every few
        // milliseconds; readers stat the same inodes all the time. The record cache keeps what each commit wrote
        // and remembers untouched base files: a reader must never see a size smaller than one it already saw
        // (nor the base's size again), and at the end every file has its last size and content.
        using var t = new TempStore();
        const int files = 12, versions = 400, first = 100;
        for (int i = 0; i < files / 2; i++) t.WriteBase($"b{i}.txt", "base");
        using var store = t.Create(new StoreOptions { CommitInterval = TimeSpan.FromMilliseconds(5), MaxDirtyBytes = 64 << 10 });
        using var fs = store.OpenFileSystem();
        var inos = Enumerable.Range(0, files).Select(i => i < files / 2
            ? fs.Inodes.Lookup(1, System.Text.Encoding.UTF8.GetBytes($"b{i}.txt")).Ino
            : fs.Inodes.Create(1, System.Text.Encoding.UTF8.GetBytes($"n{i}.txt"), 0x81A4).Ino).ToArray();
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int writersLeft = 2;
        var writers = Enumerable.Range(0, 2).Select(w => new Thread(() =>
        {
            try
            {
                for (int v = 0; v < versions; v++)
                    for (int i = w; i < files; i += 2)
                    {
                        fs.Inodes.SetAttr(inos[i], new SetAttrRequest(SetAttrFields.Size, 0, 0, 0, first + v, 0, 0, 0));
                        fs.Inodes.Write(inos[i], 0, BitConverter.GetBytes(v));
                        if (v % 37 == 0) fs.Flush(durable: false);
                    }
            }
            catch (Exception e) { errors.Enqueue(e.ToString()); }
            finally { Interlocked.Decrement(ref writersLeft); }
        })).ToList();
        var readers = Enumerable.Range(0, 3).Select(r => new Thread(() =>
        {
            var seen = new long[files];
            try
            {
                while (Volatile.Read(ref writersLeft) > 0)
                    for (int i = 0; i < files; i++)
                    {
                        long size = fs.Inodes.GetAttr(inos[i]).Size;
                        if (size < seen[i]) errors.Enqueue($"reader {r} saw file {i} go back from size {seen[i]} to {size}");
                        seen[i] = Math.Max(seen[i], size);
                    }
            }
            catch (Exception e) { errors.Enqueue(e.ToString()); }
        })).ToList();
        writers.Concat(readers).ToList().ForEach(x => x.Start());
        writers.Concat(readers).ToList().ForEach(x => x.Join());
        Assert.Empty(errors.Take(5));
        fs.Flush();
        var buffer = new byte[4];
        for (int i = 0; i < files; i++)
        {
            Assert.Equal(first + versions - 1, fs.Inodes.GetAttr(inos[i]).Size);
            fs.Inodes.Read(inos[i], 0, buffer);
            Assert.Equal(versions - 1, BitConverter.ToInt32(buffer));
        }
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
            fs.Inodes.Fsync();
        }
        using (var store = AgentStore.Open(t.StorePath))
        using (var fs = store.OpenFileSystem(readOnly: true))
        {
            Assert.Equal("1", fs.ReadAllText("a"));
            Assert.Equal("2", fs.ReadAllText("b"));
        }
    }
}
