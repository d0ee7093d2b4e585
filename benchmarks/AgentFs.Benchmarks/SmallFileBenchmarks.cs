using System.Buffers.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;

namespace AgentFs.Benchmarks;

/// <summary>
/// One 4 KiB file: create, write 4 KiB, read it back, through the library (no durability asked: the
/// group commit moves the files to SQLite in the background every 500 ms, and that cost lands in the
/// measured time through the shared cores). Files are spread over 100 directories.
/// </summary>
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 3, iterationCount: 10, id: "Short")]
[IterationTime(250)]
public class SmallFilePerFile
{
    private const int Dirs = 100;
    private BenchDir _dir = null!;
    private AgentStore _store = null!;
    private AgentFileSystem _fs = null!;
    private readonly ulong[] _dirInos = new ulong[Dirs];
    private readonly string[] _dirPaths = new string[Dirs];
    private readonly byte[] _data = BenchEnv.FileContent(7, 4096);
    private readonly byte[] _buf = new byte[4096];
    private long _n;

    [GlobalSetup]
    public void Setup()
    {
        _dir = BenchEnv.NewDir("perfile");
        _store = _dir.CreateStore();
        _fs = _store.OpenFileSystem("main");
        for (int d = 0; d < Dirs; d++)
        {
            _dirPaths[d] = $"/d{d:000}";
            _dirInos[d] = _fs.Inodes.Mkdir(InodeNumbers.Root, BenchEnv.Utf8($"d{d:000}"), 0x1ED).Ino;
        }
        _fs.Flush(durable: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _fs.Dispose();
        _store.Dispose();
        _dir.Dispose();
    }

    /// <summary>Inode API (what the FUSE driver calls): Create, Write(ino, 0, 4 KiB), Read(ino, 0, 4 KiB).</summary>
    [Benchmark(Description = "4 KiB file create+write+read (inode API)")]
    [Work(1, "files")]
    public int CreateWriteRead_Inode()
    {
        long i = _n++;
        Span<byte> name = stackalloc byte[24];
        name[0] = (byte)'i';
        Utf8Formatter.TryFormat(i, name[1..], out int len);
        var a = _fs.Inodes.Create(_dirInos[i % Dirs], name[..(len + 1)], 0x1A4);
        _fs.Inodes.Write(a.Ino, 0, _data);
        return _fs.Inodes.Read(a.Ino, 0, _buf);
    }

    /// <summary>Path API (what an orchestrator calls): WriteAllBytes then ReadAllBytes of /dNNN/pN.</summary>
    [Benchmark(Description = "4 KiB file WriteAllBytes+ReadAllBytes (path API)")]
    [Work(1, "files")]
    public int WriteRead_Path()
    {
        long i = _n++;
        string path = string.Concat(_dirPaths[i % Dirs], "/p", i.ToString());
        _fs.WriteAllBytes(path, _data);
        return _fs.ReadAllBytes(path).Length;
    }
}

/// <summary>
/// The peer workload (benchmarks/peer/agentfs-sdk): a fresh store, 100 directories, 10,000 files of 4 KiB
/// with distinct content spread round-robin over them through the path API, then every file read back and
/// compared byte for byte. Writing ends with a durable Flush (fsync), so the files are on disk when the
/// timer stops, as the SDK's are (it fsyncs every statement).
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 2, iterationCount: 10, id: "Bulk")]
public class SmallFileBulk
{
    public const int Files = 10_000, Size = 4096, Dirs = 100;
    private readonly string[] _dirNames = new string[Dirs];
    private readonly string[] _paths = new string[Files];
    private readonly byte[][] _contents = new byte[Files][];
    private BenchDir? _dir;
    private AgentStore? _store;
    private AgentFileSystem _fs = null!;

    [GlobalSetup]
    public void Setup()
    {
        for (int d = 0; d < Dirs; d++) _dirNames[d] = $"/d{d:000}";
        for (int i = 0; i < Files; i++)
        {
            _paths[i] = $"{_dirNames[i % Dirs]}/f{i:00000}.bin";
            _contents[i] = BenchEnv.FileContent(i, Size);
        }
    }

    private void FreshStore()
    {
        _dir = BenchEnv.NewDir("bulk");
        _store = _dir.CreateStore();
        _fs = _store.OpenFileSystem("main");
    }

    [IterationSetup(Targets = [nameof(Write10k), nameof(Write10k_NoFsync), nameof(WriteAndRead10k)])]
    public void SetupEmpty() => FreshStore();

    [IterationSetup(Target = nameof(Read10k))]
    public void SetupWritten()
    {
        FreshStore();
        WriteAll();
    }

    [IterationCleanup]
    public void CleanupIteration()
    {
        _fs.Dispose();
        _store?.Dispose();
        _dir?.Dispose();
        _store = null;
        _dir = null;
    }

    private void WriteAll(bool durable = true)
    {
        foreach (var d in _dirNames) _fs.CreateDirectory(d);
        for (int i = 0; i < Files; i++) _fs.WriteAllBytes(_paths[i], _contents[i]);
        _fs.Flush(durable);
    }

    private long ReadAll()
    {
        long bytes = 0;
        for (int i = 0; i < Files; i++)
        {
            var got = _fs.ReadAllBytes(_paths[i]);
            if (!got.AsSpan().SequenceEqual(_contents[i])) throw new InvalidOperationException($"verification failed for {_paths[i]}");
            bytes += got.Length;
        }
        return bytes;
    }

    [Benchmark(Description = "10k x 4 KiB: mkdir x100 + write + durable flush")]
    [Work(Files, "files")]
    public void Write10k() => WriteAll();

    /// <summary>Diagnostic: the same, but the final commit is not fsynced (the library's cost without the disk's).</summary>
    [Benchmark(Description = "10k x 4 KiB: mkdir x100 + write + flush, no fsync")]
    [Work(Files, "files")]
    public void Write10k_NoFsync() => WriteAll(durable: false);

    [Benchmark(Description = "10k x 4 KiB: read back + verify (committed)")]
    [Work(Files, "files")]
    public long Read10k() => ReadAll();

    [Benchmark(Description = "10k x 4 KiB: write + durable flush, then read back")]
    [Work(Files, "files")]
    public long WriteAndRead10k()
    {
        WriteAll();
        return ReadAll();
    }
}
