using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;

namespace AgentFs.Benchmarks;

/// <summary>
/// Diff and patch cost against the size of the tree: a base of 1,000 or 100,000 files (100 directories of
/// small files) with the same 10 files changed (modified, added, deleted, renamed, chmod). Diff must cost
/// the same at both sizes: it reads only the rows of the layers that differ and looks up only the paths
/// they name. <see cref="ChangedFiles"/> shows the other side: the cost grows with the number of changes.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 3, iterationCount: 20, id: "Diff")]
public class DiffBenchmarks
{
    private BenchDir _dir = null!;
    private AgentStore _store = null!;

    [Params(1_000, 100_000)]
    public int BaseFiles { get; set; }

    [Params(10, 1_000)]
    public int ChangedFiles { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = BenchEnv.NewDir("diff");
        int perDir = Math.Min(1000, BaseFiles);
        for (int d = 0; d < BaseFiles / perDir; d++)
        {
            string dir = Path.Combine(_dir.BasePath, $"d{d:000}");
            Directory.CreateDirectory(dir);
            for (int i = 0; i < perDir; i++) File.WriteAllBytes(Path.Combine(dir, $"f{i:0000}.txt"), BenchEnv.Utf8($"file {d}/{i}\nline 2\nline 3\n"));
        }
        _store = _dir.CreateStore();
        using (var fs = _store.OpenFileSystem())
        {
            // The changes spread over the directories: a fifth each modified, added, deleted, renamed, chmodded.
            int dirs = BaseFiles / perDir;
            for (int c = 0; c < ChangedFiles; c++)
            {
                string path = $"/d{c % dirs:000}/f{c / dirs:0000}.txt";
                switch (c % 5)
                {
                    case 0: fs.WriteAllText(path, $"changed {c}\nline 2\nline 3\n"); break;
                    case 1: fs.WriteAllText($"/d{c % dirs:000}/new{c}.txt", $"new {c}\n"); break;
                    case 2: fs.Delete(path); break;
                    case 3: fs.Move(path, path + ".moved"); break;
                    default: fs.SetMode(path, 0x1ED); break;
                }
            }
            fs.Flush(durable: true);
        }
        _store.Dispose();
        BenchEnv.Sync();
        _store = AgentStore.Open(_dir.StorePath, new StoreOptions { ReadOnly = true });
        int n = _store.Diff("base", "main").Count;
        Console.WriteLine($"// base of {BaseFiles} files, {ChangedFiles} changed: {n} changes");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    [Benchmark(Description = "Diff(base, main)")]
    public int Diff() => _store.Diff("base", "main").Count;

    [Benchmark(Description = "WritePatch(base, main)")]
    public long Patch() => _store.WritePatch("base", "main", Stream.Null).Bytes;
}
