using System.Security.Cryptography;
using Xunit.Abstractions;

namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// xfstests' fsx on a real mount: random reads, writes, mapped reads and writes, truncates, fallocate (mode 0 and
/// KEEP_SIZE), punch hole, zero range (with and without KEEP_SIZE) and copy_file_range, each checked by fsx against
/// its in-memory model of the file. Several seeds at once on new files and on base files (copy-up). fsx counts
/// the operations it skips (clone, dedupe, collapse, insert, exchange: not in FUSE) in its -N, about one in three
/// (its log of the last 10,000 operations per run shows 65% done), so the default of 320,000 is about 200,000
/// operations done; AGENTFS_FSX_OPS sets the total (1600000 for a million done). Afterwards the files must
/// read the same after an unmount and a mount: fsx reads through the kernel's page cache, the remount proves the
/// store holds what the kernel showed.
/// </summary>
public class FsxTests(ITestOutputHelper output)
{
    /// <summary>One fsx run: a seed, its share of the operations, its file (new, or a base file of baseSize bytes)
    /// and the extra options.</summary>
    private sealed record FsxRun(string Name, int Seed, double Share, int BaseSize, string[] Options);

    private static readonly FsxRun[] Runs =
    [
        new("new-default", 1, 0.25, 0, []),
        new("new-1m", 2, 0.25, 0, ["-l", "1048576", "-o", "262144"]),
        new("new-2m", 3, 0.20, 0, ["-l", "2097152", "-o", "204800"]),
        // -k keeps the base file's content (and uses its size as the largest size): every op is a copy-up or
        // acts on a partly copied-up file; -o larger than a chunk (64 KiB) so ops span chunks.
        new("base-1m", 4, 0.15, 1 << 20, ["-k", "-o", "131072"]),
        new("base-3m", 5, 0.15, 3 * (1 << 20) + 17, ["-k", "-o", "307200"]),
    ];

    /// <summary>Operations fsx must have done (from its --record-ops log of each run's last 10,000), so a silently disabled one fails the test.</summary>
    private static readonly string[] ClaimedOperations =
        ["write", "read", "mapwrite", "mapread", "truncate", "fallocate", "fallocate+keep_size", "punch_hole", "zero_range", "zero_range+keep_size", "copy_range"];

    /// <summary>What fsx must not report as unsupported: the fallocate modes the mount does, and copy range.</summary>
    private static readonly string[] ClaimedProbes =
        ["fallocate mode 0,", "FALLOC_FL_KEEP_SIZE,", "PUNCH_HOLE", "ZERO_RANGE", "copy range"];

    [Fact]
    public void FsxFindsNoMismatchOnNewAndBaseFiles()
    {
        long total = Environment.GetEnvironmentVariable("AGENTFS_FSX_OPS") is { Length: > 0 } v ? long.Parse(v) : 320_000;
        using var m = new MountedStore(b =>
        {
            foreach (var r in Runs.Where(r => r.BaseSize > 0))
            {
                var data = new byte[r.BaseSize];
                new Random(r.Seed).NextBytes(data);
                File.WriteAllBytes(Path.Combine(b, r.Name), data);
            }
        }, Xfstests.FastScratchParent);
        string work = Path.Combine(m.Root, "fsx-work");
        Directory.CreateDirectory(work);
        string fsx = Xfstests.CopyTool("fsx", work);

        var started = System.Diagnostics.Stopwatch.StartNew();
        var results = Runs.AsParallel().WithDegreeOfParallelism(Runs.Length).Select(r =>
        {
            long ops = Math.Max(1000, (long)(total * r.Share));
            string opsLog = Path.Combine(work, r.Name + ".ops");
            var timeout = TimeSpan.FromMilliseconds(Math.Max(300_000, ops * 20));
            var run = Xfstests.Execute(fsx,
                ["-N", ops.ToString(), "-S", r.Seed.ToString(), "-P", work, "--record-ops=" + opsLog, .. r.Options, m.P(r.Name)],
                work, timeout);
            return (Run: r, Ops: ops, Result: run, OpsLog: opsLog);
        }).ToList();
        output.WriteLine($"fsx: {results.Sum(x => x.Ops)} operations in {Runs.Length} parallel runs, {started.Elapsed.TotalSeconds:F1} s");

        var done = new Dictionary<string, int>();
        foreach (var (run, ops, result, opsLog) in results)
        {
            output.WriteLine($"  {run.Name}: seed {run.Seed}, {ops} ops, {string.Join(' ', run.Options)}: exit {result.ExitCode} in {result.Duration.TotalSeconds:F1} s");
            Assert.True(result.ExitCode == 0 && result.Output.Contains($"All {ops} operations completed A-OK!"),
                $"fsx {run.Name} (seed {run.Seed}) failed, exit {result.ExitCode}:\n{Tail(result.Output, 60)}");
            var disabled = result.Output.Split('\n').Where(l => l.Contains("disabling")).ToList();
            foreach (var probe in ClaimedProbes)
                Assert.False(disabled.Any(l => l.Contains(probe)), $"fsx {run.Name} disabled what the mount claims: {string.Join(" / ", disabled)}");
            foreach (var line in File.ReadLines(opsLog))
            {
                var f = line.Split(' ');
                if (f[0] == "skip") continue;
                string kind = f[^1] == "keep_size" ? f[0] + "+keep_size" : f[0];
                done[kind] = done.GetValueOrDefault(kind) + 1;
            }
        }
        output.WriteLine("  operations done: " + string.Join(", ", done.OrderBy(d => d.Key).Select(d => $"{d.Key} {d.Value}")));
        foreach (var kind in ClaimedOperations)
            Assert.True(done.GetValueOrDefault(kind) > 0, $"fsx never did {kind}: done {string.Join(", ", done.Keys)}");

        // What the kernel showed must be what the store kept.
        var shown = Runs.ToDictionary(r => r.Name, r => SHA256.HashData(File.ReadAllBytes(m.P(r.Name))));
        var sizes = Runs.ToDictionary(r => r.Name, r => new FileInfo(m.P(r.Name)).Length);
        m.Unmount();
        Assert.Equal("ok", Xfstests.IntegrityCheck(m.StorePath));
        m.Mount();
        foreach (var r in Runs)
        {
            Assert.True(sizes[r.Name] == new FileInfo(m.P(r.Name)).Length, $"{r.Name}: size {new FileInfo(m.P(r.Name)).Length} after remount, the mount showed {sizes[r.Name]}");
            Assert.True(shown[r.Name].AsSpan().SequenceEqual(SHA256.HashData(File.ReadAllBytes(m.P(r.Name)))), $"{r.Name}: content differs after remount");
        }
    }

    private static string Tail(string s, int lines) => string.Join('\n', s.Split('\n').TakeLast(lines));
}
