using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;

namespace AgentFs.Benchmarks;

/// <summary>
/// Checkpoint and branch with 10 MiB and with 1 GiB of stored data (files of 1 MiB, written through the
/// library and flushed durably in the global setup). Both must be O(1): the same time at both sizes.
/// Each iteration is one call (Monitoring), 50 of them, so the layer chain grows by only ~55 layers.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 5, iterationCount: 50, id: "Versions")]
public class Versions
{
    private const int MiB = 1 << 20;
    private BenchDir _dir = null!;
    private AgentStore _store = null!;
    private AgentFileSystem _fs = null!;
    private string _checkpointId = "";
    private readonly byte[] _small = BenchEnv.FileContent(3, 4096);
    private int _n;

    /// <summary>Stored data before measuring, in MiB.</summary>
    [Params(10, 1024)]
    public int DataMiB { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = BenchEnv.NewDir("versions");
        _store = _dir.CreateStore();
        _fs = _store.OpenFileSystem("main");
        var block = new byte[MiB];
        new Random(1).NextBytes(block);
        _fs.CreateDirectory("/data");
        for (int i = 0; i < DataMiB; i++)
        {
            if (i % 64 == 0) _fs.CreateDirectory($"/data/g{i / 64:00}");
            block[0] = (byte)i;
            _fs.WriteAllBytes($"/data/g{i / 64:00}/f{i:0000}.bin", block);
        }
        _fs.Flush(durable: true);
        // Let the setup's I/O settle so it does not land in the measurements: closing the store copies the
        // WAL into the database file; sync(2) writes the page cache out; then reopen.
        _fs.Dispose();
        _store.Dispose();
        BenchEnv.Sync();
        _store = AgentStore.Open(_dir.StorePath, BenchEnv.Options);
        _fs = _store.OpenFileSystem("main");
        _checkpointId = _fs.Checkpoint("setup").Id.ToString();
        long bytes = new FileInfo(_dir.StorePath).Length;
        Console.WriteLine($"// store with {DataMiB} MiB of file data: {bytes / (double)MiB:F0} MiB db file");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _fs.Dispose();
        _store.Dispose();
        _dir.Dispose();
    }

    [Benchmark(Description = "Checkpoint() (nothing pending)")]
    [Work(1, "checkpoints")]
    public long Checkpoint() => _fs.Checkpoint().Id;

    [IterationSetup(Target = nameof(CheckpointAfterWrite))]
    public void PendingWrite() => _fs.WriteAllBytes($"/pending{_n++}.bin", _small);

    [Benchmark(Description = "Checkpoint() with one 4 KiB file pending")]
    [Work(1, "checkpoints")]
    public long CheckpointAfterWrite() => _fs.Checkpoint().Id;

    [Benchmark(Description = "CreateBranch(name, checkpoint id)")]
    [Work(1, "branches")]
    public long CreateBranch() => _store.CreateBranch($"b{_n++}", _checkpointId).TopLayer;
}
