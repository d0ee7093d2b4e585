using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;

namespace AgentFs.Benchmarks;

/// <summary>
/// Lookup and getattr of a path 10 components deep (9 directories and a file), through the inode API:
/// one tree in the base directory (untouched by the overlay), one created in the overlay and committed
/// to SQLite. Lookup walks the 10 components from the root, as the kernel does on a cold dcache.
/// </summary>
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 3, iterationCount: 10, id: "Short")]
[IterationTime(250)]
public class DeepPath
{
    public const int Depth = 10;
    private BenchDir _dir = null!;
    private AgentStore _store = null!;
    private AgentFileSystem _fs = null!;
    private byte[][] _baseNames = null!, _overlayNames = null!;
    private string _basePath = "", _overlayPath = "";
    private ulong _baseLeaf, _overlayLeaf;

    [GlobalSetup]
    public void Setup()
    {
        _dir = BenchEnv.NewDir("deep");
        _baseNames = Enumerable.Range(1, Depth).Select(i => BenchEnv.Utf8(i < Depth ? $"base{i:00}" : "leaf.txt")).ToArray();
        _overlayNames = Enumerable.Range(1, Depth).Select(i => BenchEnv.Utf8(i < Depth ? $"ovl{i:00}" : "leaf.txt")).ToArray();
        _basePath = "/" + string.Join('/', _baseNames.Select(System.Text.Encoding.UTF8.GetString));
        _overlayPath = "/" + string.Join('/', _overlayNames.Select(System.Text.Encoding.UTF8.GetString));

        // The base tree, with a few siblings at each level so directories are not trivially small.
        string p = _dir.BasePath;
        for (int i = 0; i < Depth - 1; i++)
        {
            for (int s = 0; s < 8; s++) File.WriteAllText(Path.Combine(p, $"sibling{s}.txt"), "x");
            p = Path.Combine(p, System.Text.Encoding.UTF8.GetString(_baseNames[i]));
            Directory.CreateDirectory(p);
        }
        File.WriteAllText(Path.Combine(p, "leaf.txt"), "leaf in the base");

        _store = _dir.CreateStore();
        _fs = _store.OpenFileSystem("main");
        ulong ino = InodeNumbers.Root;
        for (int i = 0; i < Depth - 1; i++)
        {
            for (int s = 0; s < 8; s++)
            {
                var f = _fs.Inodes.Create(ino, BenchEnv.Utf8($"ovl-sibling{s}.txt"), 0x1A4);
                _fs.Inodes.Write(f.Ino, 0, "x"u8);
            }
            ino = _fs.Inodes.Mkdir(ino, _overlayNames[i], 0x1ED).Ino;
        }
        var leaf = _fs.Inodes.Create(ino, _overlayNames[^1], 0x1A4);
        _fs.Inodes.Write(leaf.Ino, 0, "leaf in the overlay"u8);
        _fs.Flush(durable: true); // committed: lookups go to SQLite, not the memtable

        _baseLeaf = Walk(_baseNames);
        _overlayLeaf = Walk(_overlayNames);
        if (InodeNumbers.IsOverlay(_baseLeaf) || !InodeNumbers.IsOverlay(_overlayLeaf))
            throw new InvalidOperationException("setup: the base leaf should be a base inode and the overlay leaf an overlay inode");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _fs.Dispose();
        _store.Dispose();
        _dir.Dispose();
    }

    private ulong Walk(byte[][] names)
    {
        ulong ino = InodeNumbers.Root;
        foreach (var n in names) ino = _fs.Inodes.Lookup(ino, n).Ino;
        return ino;
    }

    [Benchmark(Description = "lookup x10 of a 10-deep path, base")]
    [Work(Depth, "lookups")]
    public ulong Lookup10_Base() => Walk(_baseNames);

    [Benchmark(Description = "lookup x10 of a 10-deep path, overlay (committed)")]
    [Work(Depth, "lookups")]
    public ulong Lookup10_Overlay() => Walk(_overlayNames);

    [Benchmark(Description = "getattr of the 10-deep leaf, base")]
    [Work(1, "getattrs")]
    public long GetAttr_Base() => _fs.Inodes.GetAttr(_baseLeaf).Size;

    [Benchmark(Description = "getattr of the 10-deep leaf, overlay (committed)")]
    [Work(1, "getattrs")]
    public long GetAttr_Overlay() => _fs.Inodes.GetAttr(_overlayLeaf).Size;

    [Benchmark(Description = "GetAttributes(path) of the 10-deep leaf, base (path API)")]
    [Work(1, "stats")]
    public long PathStat_Base() => _fs.GetAttributes(_basePath).Size;

    [Benchmark(Description = "GetAttributes(path) of the 10-deep leaf, overlay (path API)")]
    [Work(1, "stats")]
    public long PathStat_Overlay() => _fs.GetAttributes(_overlayPath).Size;
}
