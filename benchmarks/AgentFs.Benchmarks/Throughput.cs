using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace AgentFs.Benchmarks;

/// <summary>How much work one invocation of a benchmark does (e.g. 256 "MiB", 10000 "files"), for the throughput column.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class WorkAttribute(double amount, string unit) : Attribute
{
    public double Amount { get; } = amount;
    public string Unit { get; } = unit;

    public static WorkAttribute? Of(BenchmarkCase c) => c.Descriptor.WorkloadMethod.GetCustomAttribute<WorkAttribute>();

    /// <summary>Units per second at the given mean time per invocation.</summary>
    public double PerSecond(double meanNs) => Amount / (meanNs / 1e9);
}

/// <summary>A column with the derived throughput: the [Work] amount divided by the mean time of one invocation.</summary>
public sealed class ThroughputColumn : IColumn
{
    public string Id => "AgentFs.Throughput";
    public string ColumnName => "Throughput";
    public string Legend => "Work of one invocation ([Work] attribute) divided by its mean time";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => false;
    public UnitType UnitType => UnitType.Dimensionless;
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var work = WorkAttribute.Of(benchmarkCase);
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (work == null || stats == null) return "-";
        return Format(work.PerSecond(stats.Mean), work.Unit);
    }

    public static string Format(double perSecond, string unit) =>
        perSecond.ToString(perSecond >= 100 ? "N0" : "N1", CultureInfo.InvariantCulture) + " " + unit + "/s";
}
