namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// The store's WAL stays bounded on a mount that creates and deletes many small files: checkpoints copy it into
/// the store while writes go on, a commit after a complete checkpoint starts it over (cut to journal_size_limit),
/// and an idle mount empties it. (It used to reach 236 MB on this workload and keep that size.)
/// </summary>
public class WalSizeTests
{
    private const long PeakBound = 64L << 20;

    [Fact]
    public void TheWalStaysBoundedWhileFilesAreCreatedAndDeletedAndEmptiesWhenIdle()
    {
        using var m = new MountedStore();
        string wal = m.StorePath + "-wal";
        long peak = 0;
        using var done = new ManualResetEventSlim();
        var watcher = new Thread(() =>
        {
            while (!done.Wait(20))
                try { peak = Math.Max(peak, new FileInfo(wal).Length); } catch (IOException) { }
        });
        watcher.Start();
        var data = new byte[4096];
        Random.Shared.NextBytes(data);
        for (int round = 0; round < 3; round++)
        {
            string dir = m.P("d");
            Directory.CreateDirectory(dir);
            for (int i = 0; i < 5000; i++) File.WriteAllBytes(Path.Combine(dir, $"f{i}"), data);
            Thread.Sleep(1000); // committed: the deletes below change rows in SQLite, not only in memory
            Directory.Delete(dir, true);
            Thread.Sleep(1000);
        }
        long atEnd = new FileInfo(wal).Length;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (new FileInfo(wal).Length > 1 << 20 && DateTime.UtcNow < deadline) Thread.Sleep(100);
        done.Set();
        watcher.Join();
        long idle = new FileInfo(wal).Length;
        Assert.True(peak < PeakBound, $"the WAL reached {peak >> 20} MiB (bound {PeakBound >> 20} MiB)");
        Assert.True(idle <= 1 << 20, $"the WAL still has {idle >> 10} KiB 10 s after the last write (at the end of the workload: {atEnd >> 10} KiB)");
        Assert.Empty(Directory.EnumerateFileSystemEntries(m.MountPoint));
    }
}
