using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using Xunit.Abstractions;

namespace AgentFs.Tests.Property;

/// <summary>
/// Differential property test: random operation sequences run against the library (a store overlaying a
/// random base tree) and against a real directory (the model, a cp -a copy of the same base tree), comparing
/// every operation's errno and, after every step, the whole observable tree.
///
/// Environment:
///   AGENTFS_PROPERTY_ITERATIONS  cases per test (default 60, 60 and 40)
///   AGENTFS_PROPERTY_STEPS       operations per case: between half of it and it (default 60)
///   AGENTFS_PROPERTY_SEED        replay one case (the seed a failure prints; run only the failing test)
///   AGENTFS_PROPERTY_OPS         comma-separated operation kinds to generate (default all), e.g. WriteAt,Truncate,Flush
///   AGENTFS_PROPERTY_MINIMIZE    0 to skip minimizing a failure
///   AGENTFS_PROPERTY_IGNORE_ERRNO 1 to accept different errnos when both sides fail (to look past known deviations)
///   AGENTFS_PROPERTY_AVOID       known deviations not to generate (see DifferentialRun.Avoid)
///   AGENTFS_PROPERTY_TMP         where the cases' directories go (default /dev/shm when usable, else the temp directory)
/// A failure prints the seed, the operations up to the failing step with the first difference, and a minimized
/// case as a regression test for DifferentialReproTests.
/// </summary>
public class DifferentialPropertyTests(ITestOutputHelper output)
{
    [Fact]
    public void MatchesLinuxWith64KiBChunks() => Check(new RunSettings(64 * 1024), nameof(MatchesLinuxWith64KiBChunks), 60);

    [Fact]
    public void MatchesLinuxWith4KiBChunks() => Check(new RunSettings(4096), nameof(MatchesLinuxWith4KiBChunks), 60);

    /// <summary>The committer moves the memtable to SQLite every millisecond, concurrently with the operations.</summary>
    [Fact]
    public void MatchesLinuxWithEagerBackgroundCommits() =>
        Check(new RunSettings(4096, TimeSpan.FromMilliseconds(1)), nameof(MatchesLinuxWithEagerBackgroundCommits), 40);

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int v) && v > 0 ? v : fallback;

    private void Check(RunSettings settings, string testName, int defaultIterations)
    {
        int iterations = EnvInt("AGENTFS_PROPERTY_ITERATIONS", defaultIterations);
        int steps = EnvInt("AGENTFS_PROPERTY_STEPS", 60);
        string? seed = Environment.GetEnvironmentVariable("AGENTFS_PROPERTY_SEED");
        if (string.IsNullOrWhiteSpace(seed)) seed = null;
        HashSet<OpKind>? only = null;
        if (Environment.GetEnvironmentVariable("AGENTFS_PROPERTY_OPS") is { Length: > 0 } ops)
            only = ops.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Enum.Parse<OpKind>).ToHashSet();

        var gen = Operations.CaseGen(steps, only);
        PropertyFailure? shortest = null;
        var gate = new object();
        long cases = 0, totalSteps = 0;
        var outcomes = new RunStats();
        var sw = Stopwatch.StartNew();
        try
        {
            gen.Sample(c =>
            {
                Interlocked.Increment(ref cases);
                Interlocked.Add(ref totalSteps, c.Ops.Length);
                var f = DifferentialRun.Run(settings, c.Base, c.Ops, stats: outcomes);
                if (f == null) return;
                lock (gate)
                    if (shortest == null || f.FailingStep < shortest.FailingStep) shortest = f;
                throw new PropertyMismatchException(f.Report("Mismatch"));
            }, seed: seed, iter: seed != null ? 1 : iterations, print: c => c.ToString());
        }
        catch (CsCheckException e)
        {
            var sb = new StringBuilder();
            var m = Regex.Match(e.Message, "Set seed: \"([^\"]+)\"");
            string s = m.Success ? m.Groups[1].Value : "?";
            sb.Append($"Differential property test failed ({settings}). Replay with:\n");
            sb.Append($"  AGENTFS_PROPERTY_SEED={s} AGENTFS_PROPERTY_STEPS={steps}{(only != null ? $" AGENTFS_PROPERTY_OPS={string.Join(',', only)}" : "")}" +
                      $"{(DifferentialRun.Avoid.Count > 0 ? $" AGENTFS_PROPERTY_AVOID={string.Join(',', DifferentialRun.Avoid)}" : "")} " +
                      $"dotnet test tests/AgentFs.Tests --filter FullyQualifiedName~{testName}\n");
            sb.Append(e.Message).Append("\n\n");
            sb.Append(e.InnerException is PropertyMismatchException pm ? pm.Message : e.InnerException?.ToString());
            PropertyFailure? shortestSeen;
            lock (gate) shortestSeen = shortest;
            if (shortestSeen != null && Environment.GetEnvironmentVariable("AGENTFS_PROPERTY_MINIMIZE") != "0")
            {
                var min = Minimizer.Minimize(shortestSeen, out string stats);
                sb.Append($"\n\nMinimized ({stats}) from the shortest failing case seen:\n").Append(min.Report("Minimal repro"));
                sb.Append("\nAs a regression test:\n").Append(min.Code()).Append('\n');
            }
            throw new Xunit.Sdk.XunitException(sb.ToString());
        }
        output.WriteLine($"{cases} cases, {totalSteps} generated operations, {settings}, {sw.Elapsed.TotalSeconds:F1} s");
        output.WriteLine("Outcomes on the model (Linux) by operation:\n" + outcomes);
    }
}

public sealed class PropertyMismatchException(string message) : Exception(message);

/// <summary>Delta debugging over the concrete steps and then the base tree, keeping the failure's signature.</summary>
public static class Minimizer
{
    public static PropertyFailure Minimize(PropertyFailure failure, out string stats, int maxRuns = 500, int maxSeconds = 90)
    {
        var sw = Stopwatch.StartNew();
        int runs = 0;
        string sig = failure.Signature;
        var best = failure;

        PropertyFailure? Try(List<Step> baseTree, List<Step> steps)
        {
            if (runs >= maxRuns || sw.Elapsed.TotalSeconds > maxSeconds) return null;
            runs++;
            var f = DifferentialRun.Run(failure.Settings, null, null, baseTree, steps);
            return f != null && f.Signature == sig ? f : null;
        }

        List<Step> Cut(PropertyFailure f) => f.FailingStep > f.Steps.Count ? f.Steps : f.Steps.Take(f.FailingStep).ToList();

        // Replay the recorded concrete steps first (the minimization works on these).
        if (Try(best.BaseTree, Cut(best)) is not { } replay)
        {
            stats = "the concrete steps did not reproduce the failure; not minimized";
            return failure;
        }
        best = replay;

        List<Step> Ddmin(List<Step> items, Func<List<Step>, PropertyFailure?> test)
        {
            int n = 2;
            while (items.Count > 0)
            {
                int chunk = Math.Max(1, (items.Count + n - 1) / n);
                bool reduced = false;
                for (int start = 0; start < items.Count; start += chunk)
                {
                    var candidate = items.Take(start).Concat(items.Skip(start + chunk)).ToList();
                    if (test(candidate) is { } f)
                    {
                        best = f;
                        items = candidate;
                        n = Math.Max(n - 1, 2);
                        reduced = true;
                        break;
                    }
                }
                if (!reduced)
                {
                    if (chunk <= 1) break;
                    n = Math.Min(items.Count, n * 2);
                }
                if (runs >= maxRuns || sw.Elapsed.TotalSeconds > maxSeconds) break;
            }
            return items;
        }

        for (int round = 0; round < 2; round++)
        {
            int before = best.Steps.Count + best.BaseTree.Count;
            var baseTree = best.BaseTree;
            Ddmin(Cut(best), c => Try(baseTree, c));
            var steps = Cut(best);
            Ddmin(best.BaseTree, b => Try(b, steps));
            if (best.Steps.Count + best.BaseTree.Count == before) break;
        }
        stats = $"{runs} replays, {sw.Elapsed.TotalSeconds:F0} s; {Cut(best).Count} steps, {best.BaseTree.Count} base entries";
        return best;
    }
}
