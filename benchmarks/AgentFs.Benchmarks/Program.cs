using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using AgentFs.Benchmarks;

// Usage:
//   dotnet run -c Release -- [BenchmarkDotNet args, e.g. --filter '*']   run benchmarks, record figures
//   dotnet run -c Release -- report FIGURES.json [PEER_OUTPUT.jsonl]     print the targets table (markdown)
//   dotnet run -c Release -- profile [bulk|seq|all] [RUNS]                stopwatch breakdowns of the workloads
//   dotnet run -c Release -- oplog [ROWS...]                              'agentfs ops' query cost against the log's size
//
// Stores go under $AGENTFS_BENCH_DIR; figures are merged into $AGENTFS_BENCH_FIGURES
// (default: BenchmarkDotNet.Artifacts/agentfs-figures.json).

if (args.Length > 0 && args[0] == "report")
{
    if (args.Length < 2)
    {
        Console.Error.WriteLine("usage: report FIGURES.json [PEER_OUTPUT.jsonl]");
        return 2;
    }
    Console.Write(Report.Render(args[1], args.Length > 2 ? args[2] : null));
    return 0;
}

if (args.Length > 0 && args[0] == "profile") return Profile.Run(args);
if (args.Length > 0 && args[0] == "oplog") return OperationLogBenchmark.Run(args);

var config = DefaultConfig.Instance
    .AddColumn(new ThroughputColumn(), StatisticColumn.Median, StatisticColumn.P95)
    .WithOptions(ConfigOptions.JoinSummary);

var summaries = BenchmarkSwitcher.FromTypes(
    [typeof(SmallFilePerFile), typeof(SmallFileBulk), typeof(Sequential), typeof(DeepPath), typeof(Versions), typeof(DiffBenchmarks)])
    .Run(args, config).ToList();

if (summaries.Count > 0)
{
    string path = Environment.GetEnvironmentVariable("AGENTFS_BENCH_FIGURES") is { Length: > 0 } p
        ? p
        : Path.Combine(Path.GetDirectoryName(summaries[0].ResultsDirectoryPath) ?? ".", "agentfs-figures.json");
    Figures.Merge(path, summaries);
    Console.WriteLine($"// figures: {path}");
}
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
