using System.Diagnostics;

namespace AgentFs.Benchmarks;

/// <summary>
/// Stopwatch breakdowns of the workloads behind the benchmarks, to see where the time goes
/// (<c>dotnet AgentFs.Benchmarks.dll profile [bulk|seq|all] [runs]</c>; AGENTFS_TRACE_COMMITS=1 also prints each commit).
/// </summary>
public static class Profile
{
    public static int Run(string[] args)
    {
        string what = args.Length > 1 ? args[1] : "all";
        int runs = args.Length > 2 ? int.Parse(args[2]) : 3;
        for (int r = 0; r < runs; r++)
        {
            if (what is "bulk" or "all") Bulk();
            if (what is "seq" or "all") Seq();
        }
        return 0;
    }

    private static double Ms(long t0) => Stopwatch.GetElapsedTime(t0).TotalMilliseconds;

    private static void Bulk()
    {
        const int files = SmallFileBulk.Files, dirs = SmallFileBulk.Dirs;
        var paths = Enumerable.Range(0, files).Select(i => $"/d{i % dirs:000}/f{i:00000}.bin").ToArray();
        var contents = Enumerable.Range(0, files).Select(i => BenchEnv.FileContent(i, SmallFileBulk.Size)).ToArray();
        using var dir = BenchEnv.NewDir("profile-bulk");
        using var store = dir.CreateStore();
        var fs = store.OpenFileSystem("main");
        var gc0 = GC.CollectionCount(0);
        long t = Stopwatch.GetTimestamp();
        for (int d = 0; d < dirs; d++) fs.CreateDirectory($"/d{d:000}");
        double mkdir = Ms(t);
        t = Stopwatch.GetTimestamp();
        // Split the write loop in its parts: path resolution + create, and the data write.
        double create = 0, write = 0, stalls = 0, maxStall = 0;
        int stallCount = 0;
        for (int i = 0; i < files; i++)
        {
            long a = Stopwatch.GetTimestamp();
            ulong parent = fs.Inodes.Lookup(InodeNumbers.Root, BenchEnv.Utf8($"d{i % dirs:000}")).Ino;
            var attr = fs.Inodes.Create(parent, BenchEnv.Utf8($"f{i:00000}.bin"), 0x1A4);
            long b = Stopwatch.GetTimestamp();
            fs.Inodes.Write(attr.Ino, 0, contents[i]);
            long c = Stopwatch.GetTimestamp();
            create += Stopwatch.GetElapsedTime(a, b).TotalMilliseconds;
            write += Stopwatch.GetElapsedTime(b, c).TotalMilliseconds;
            double call = Stopwatch.GetElapsedTime(a, c).TotalMilliseconds;
            if (call >= 1) { stalls += call; stallCount++; maxStall = Math.Max(maxStall, call); }
            if (call >= 20 && Environment.GetEnvironmentVariable("AGENTFS_PROFILE_STALLS") == "1")
                Console.WriteLine($"  stall: file {i} took {call:F1} ms (lookup+create {Stopwatch.GetElapsedTime(a, b).TotalMilliseconds:F1})");
        }
        double loop = Ms(t);
        t = Stopwatch.GetTimestamp();
        fs.Flush(durable: true);
        double flush = Ms(t);
        t = Stopwatch.GetTimestamp();
        for (int i = 0; i < files; i++)
            if (!fs.ReadAllBytes(paths[i]).AsSpan().SequenceEqual(contents[i])) throw new InvalidOperationException("verify");
        double read = Ms(t);
        // The same files through the path API into a second tree, for comparison with the inode loop above.
        for (int d = 0; d < dirs; d++) fs.CreateDirectory($"/p{d:000}");
        fs.Flush(durable: true);
        t = Stopwatch.GetTimestamp();
        for (int i = 0; i < files; i++) fs.WriteAllBytes($"/p{i % dirs:000}/f{i:00000}.bin", contents[i]);
        double pathLoop = Ms(t);
        t = Stopwatch.GetTimestamp();
        fs.Flush(durable: true);
        double pathFlush = Ms(t);
        Console.WriteLine($"bulk 10k x 4 KiB: mkdir {mkdir:F1} ms | inode loop {loop:F1} ms (lookup+create {create:F1}, write {write:F1}; {stallCount} calls over 1 ms took {stalls:F1} ms, max {maxStall:F1}) | durable flush {flush:F1} ms " +
                          $"| total {mkdir + loop + flush:F1} ms = {files / ((mkdir + loop + flush) / 1000):N0} files/s | read+verify {read:F1} ms " +
                          $"| path-API loop {pathLoop:F1} ms + flush {pathFlush:F1} ms | gen0 GCs {GC.CollectionCount(0) - gc0}");
        fs.Dispose();
    }

    private static void Seq()
    {
        const int mib = 1 << 20, n = Sequential.FileMiB;
        var block = new byte[mib];
        new Random(42).NextBytes(block);
        using var dir = BenchEnv.NewDir("profile-seq");
        using var store = dir.CreateStore();
        var fs = store.OpenFileSystem("main");
        ulong ino = fs.Inodes.Create(InodeNumbers.Root, "big.bin"u8, 0x1A4).Ino;
        fs.Flush(durable: true);
        long t = Stopwatch.GetTimestamp();
        double maxCall = 0;
        for (int i = 0; i < n; i++)
        {
            long a = Stopwatch.GetTimestamp();
            fs.Inodes.Write(ino, (long)i * mib, block);
            maxCall = Math.Max(maxCall, Ms(a));
        }
        double writes = Ms(t);
        t = Stopwatch.GetTimestamp();
        fs.Flush(durable: true);
        double flush = Ms(t);
        t = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++) fs.Inodes.Read(ino, (long)i * mib, block);
        double read1 = Ms(t);
        t = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++) fs.Inodes.Read(ino, (long)i * mib, block);
        double read2 = Ms(t);
        Console.WriteLine($"seq 256 MiB: writes {writes:F1} ms (slowest call {maxCall:F1} ms) + durable flush {flush:F1} ms = {n / ((writes + flush) / 1000):F0} MiB/s " +
                          $"| read cold-ish {read1:F1} ms ({n / (read1 / 1000):F0} MiB/s), warm {read2:F1} ms ({n / (read2 / 1000):F0} MiB/s) " +
                          $"| wal {new FileInfo(dir.StorePath + "-wal").Length >> 20} MiB");
        fs.Dispose();
    }
}
