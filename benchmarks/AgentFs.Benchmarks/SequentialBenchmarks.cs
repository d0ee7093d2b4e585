using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;

namespace AgentFs.Benchmarks;

/// <summary>
/// Sequential I/O of stored data through the inode API, 1 MiB per call, on a 256 MiB file.
/// Write: a fresh store per iteration, 256 Write calls and the final durable Flush (the commit of
/// whatever the background group commit has not moved to SQLite yet, fsynced).
/// Read: a file written and committed in the global setup and read once before measuring (warm).
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 2, iterationCount: 8, id: "Seq")]
public class Sequential
{
    public const int MiB = 1 << 20, FileMiB = 256;
    private readonly byte[] _block = new byte[MiB];
    private BenchDir? _dir;
    private AgentStore? _store;
    private AgentFileSystem _fs = null!;
    private ulong _ino;

    [GlobalSetup]
    public void Setup()
    {
        new Random(42).NextBytes(_block); // incompressible; SQLite does not compress, but be fair anyway
    }

    private void FreshFile()
    {
        _dir = BenchEnv.NewDir("seq");
        _store = _dir.CreateStore();
        _fs = _store.OpenFileSystem("main");
        _ino = _fs.Inodes.Create(InodeNumbers.Root, "big.bin"u8, 0x1A4).Ino;
        _fs.Flush(durable: true);
    }

    private void Close()
    {
        _fs.Dispose();
        _store?.Dispose();
        _dir?.Dispose();
        _store = null;
        _dir = null;
    }

    private void WriteFile(bool durable = true)
    {
        for (int i = 0; i < FileMiB; i++)
        {
            _block[0] = (byte)i; // each MiB differs a little
            _fs.Inodes.Write(_ino, (long)i * MiB, _block);
        }
        _fs.Flush(durable);
    }

    private long ReadFile()
    {
        long total = 0;
        for (int i = 0; i < FileMiB; i++)
        {
            int n = _fs.Inodes.Read(_ino, (long)i * MiB, _block);
            if (n != MiB) throw new InvalidOperationException($"short read at MiB {i}: {n}");
            total += n;
        }
        return total;
    }

    // ---- write ------------------------------------------------------------------------------------

    [IterationSetup(Targets = [nameof(SequentialWrite), nameof(SequentialWrite_NoFsync)])]
    public void SetupWrite() => FreshFile();

    [IterationCleanup(Targets = [nameof(SequentialWrite), nameof(SequentialWrite_NoFsync)])]
    public void CleanupWrite() => Close();

    [Benchmark(Description = "sequential write 256 MiB in 1 MiB writes + durable flush")]
    [Work(FileMiB, "MiB")]
    public void SequentialWrite() => WriteFile();

    /// <summary>Diagnostic: the same with a final commit that is not fsynced (the library's cost without the disk's).</summary>
    [Benchmark(Description = "sequential write 256 MiB in 1 MiB writes + flush, no fsync")]
    [Work(FileMiB, "MiB")]
    public void SequentialWrite_NoFsync() => WriteFile(durable: false);

    // ---- read -------------------------------------------------------------------------------------

    [GlobalSetup(Target = nameof(SequentialReadWarm))]
    public void SetupRead()
    {
        Setup();
        FreshFile();
        WriteFile();
        ReadFile(); // warm: committed and read once
    }

    [GlobalCleanup(Target = nameof(SequentialReadWarm))]
    public void CleanupRead() => Close();

    [Benchmark(Description = "sequential read 256 MiB in 1 MiB reads (committed, warm)")]
    [Work(FileMiB, "MiB")]
    public long SequentialReadWarm() => ReadFile();
}
