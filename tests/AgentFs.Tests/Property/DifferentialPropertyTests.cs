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
///
/// The harness (DifferentialCheck, DifferentialRun, Operations, LibcSteps, TreeSnapshot, ModelLibc) is shared with
/// the same test through a real FUSE mount (AgentFs.EndToEnd.Tests/Property, which links these files): only the
/// system under test differs (<see cref="IDifferentialTarget"/>: LibraryTarget here, MountTarget there).
/// </summary>
public class DifferentialPropertyTests(ITestOutputHelper output)
{
    [Fact]
    public void MatchesLinuxWith64KiBChunks() => DifferentialCheck.Run(output, new RunSettings(64 * 1024), nameof(MatchesLinuxWith64KiBChunks), 60);

    [Fact]
    public void MatchesLinuxWith4KiBChunks() => DifferentialCheck.Run(output, new RunSettings(4096), nameof(MatchesLinuxWith4KiBChunks), 60);

    /// <summary>The committer moves the memtable to SQLite every millisecond, concurrently with the operations.</summary>
    [Fact]
    public void MatchesLinuxWithEagerBackgroundCommits() =>
        DifferentialCheck.Run(output, new RunSettings(4096, TimeSpan.FromMilliseconds(1)), nameof(MatchesLinuxWithEagerBackgroundCommits), 40);
}
