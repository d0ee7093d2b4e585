using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using Xunit.Abstractions;

namespace AgentFs.Tests.Property;

/// <summary>The property-test driver shared by the library test (DifferentialPropertyTests) and the mount test
/// (AgentFs.EndToEnd.Tests): sampling, replay instructions, minimization.</summary>
public static class DifferentialCheck
{
    public static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int v) && v > 0 ? v : fallback;

    /// <summary>Samples cases (AGENTFS_PROPERTY_* as described on DifferentialPropertyTests) and runs each against
    /// the settings' system under test and the model; on a failure, throws with the seed, the replay command, the
    /// report of the shortest failing case and (unless AGENTFS_PROPERTY_MINIMIZE=0) a minimized repro.</summary>
    public static void Run(ITestOutputHelper output, DifferentialSettings settings, string testName, int defaultIterations, int defaultSteps = 60)
    {
        int iterations = EnvInt("AGENTFS_PROPERTY_ITERATIONS", defaultIterations);
        int steps = EnvInt("AGENTFS_PROPERTY_STEPS", defaultSteps);
        string? seed = Environment.GetEnvironmentVariable("AGENTFS_PROPERTY_SEED");
        if (string.IsNullOrWhiteSpace(seed)) seed = null;
        HashSet<OpKind>? only = null;
        if (Environment.GetEnvironmentVariable("AGENTFS_PROPERTY_OPS") is { Length: > 0 } ops)
            only = ops.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Enum.Parse<OpKind>).ToHashSet();

        var gen = Operations.CaseGen(steps, only, settings.Weights);
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
                      $"dotnet test {settings.TestProject} --filter FullyQualifiedName~{testName}\n");
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
