using System.Text;

namespace AgentFs.Benchmarks;

/// <summary>
/// Where benchmark stores live and how they are made. Stores go under $AGENTFS_BENCH_DIR (the run script
/// points it at a freshly made, journaled ext4 loop mount); each benchmark case gets its own directory with
/// a base directory and a store file beside it, deleted again when the case is done.
/// </summary>
public static class BenchEnv
{
    public const string DirVariable = "AGENTFS_BENCH_DIR";

    public static string Root
    {
        get
        {
            string? dir = Environment.GetEnvironmentVariable(DirVariable);
            if (string.IsNullOrWhiteSpace(dir))
            {
                dir = Path.Combine(Path.GetTempPath(), "agentfs-bench");
                Console.Error.WriteLine($"// {DirVariable} is not set: stores go to {dir} (use benchmarks/run-library-benchmarks.sh for a journaled ext4 mount)");
            }
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>A new empty case directory holding base/ (the read-only base) and the store path.</summary>
    public static BenchDir NewDir(string name)
    {
        string d = Path.Combine(Root, $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(d);
        Directory.CreateDirectory(Path.Combine(d, "base"));
        return new BenchDir(d);
    }

    /// <summary>Default options: what a user gets (64 KiB chunks, 500 ms group commit, 64 MiB dirty limit).</summary>
    /// <summary>Default options; AGENTFS_TRACE_COMMITS=1 reports each group commit on stderr (as the command does).</summary>
    public static StoreOptions Options => new()
    {
        CommitLog = Environment.GetEnvironmentVariable("AGENTFS_TRACE_COMMITS") == "1" ? TextWriter.Synchronized(Console.Error) : null,
    };

    /// <summary>Distinct deterministic content per file (the peer benchmark's xorshift32 stream, index in the first 4 bytes).</summary>
    public static byte[] FileContent(int index, int size)
    {
        var buf = new byte[size];
        uint x = unchecked((uint)(index + 1) * 0x9e3779b1u ^ 0xdeadbeefu);
        if (x == 0) x = 1;
        for (int i = 0; i < size; i++)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf[i] = (byte)x;
        }
        if (size >= 4) BitConverter.TryWriteBytes(buf.AsSpan(0, 4), (uint)index);
        return buf;
    }

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>sync(2): writes all dirty pages out, so a setup's writes do not slow the measurements after it.</summary>
    public static void Sync() => sync();

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = false)]
    private static extern void sync();
}

public sealed class BenchDir : IDisposable
{
    public BenchDir(string path) => Path = path;

    public string Path { get; }
    public string BasePath => System.IO.Path.Combine(Path, "base");
    public string StorePath => System.IO.Path.Combine(Path, "store.agentfs");

    public AgentStore CreateStore() => AgentStore.Create(StorePath, BasePath, BenchEnv.Options);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (Exception e) { Console.Error.WriteLine($"// could not delete {Path}: {e.Message}"); }
    }
}
