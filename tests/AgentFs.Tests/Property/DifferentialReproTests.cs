namespace AgentFs.Tests.Property;

/// <summary>
/// Minimal cases the differential property test found, replayed through the same harness (library vs Linux,
/// errno of every step and the whole tree after it). The property test prints new ones in this form.
/// </summary>
public class DifferentialReproTests
{
    private static readonly RunSettings Chunk4K = new(4096), Chunk64K = new(64 * 1024);

    private static Step Dir(string p, uint mode = 0x1ED) => new(OpKind.Mkdir, p, A: mode, Flags: 1);
    private static Step File(string p, long size, int seed = 1, uint mode = 0x1A4) => new(OpKind.Create, p, A: size, B: mode, Seed: seed);
    private static Step Symlink(string p, string target) => new(OpKind.Symlink, p, target);

    [Fact]
    public void ExchangeWithOwnAncestorIsEinval() =>
        DifferentialRun.AssertSame(Chunk64K, [Dir("a"), File("a/b", 10)], [new(OpKind.Rename, "a/b", "a", Flags: 2)]);

    [Fact]
    public void ExchangeWithOwnDescendantIsEinval() =>
        DifferentialRun.AssertSame(Chunk64K, [Dir("a"), Dir("a/c"), File("a/c/b", 10)], [new(OpKind.Rename, "a", "a/c", Flags: 2)]);

    [Fact]
    public void RenameFileOverItsOwnParentIsEnotempty() =>
        DifferentialRun.AssertSame(Chunk4K, [Dir("b"), File("b/b", 3970)], [new(OpKind.Rename, "b/b", "b")]);

    [Fact]
    public void RenameIntoOwnSubdirectoryThroughSymlinkIsEinval() =>
        DifferentialRun.AssertSame(Chunk4K, [Dir("a"), Symlink("s", "a")], [new(OpKind.Rename, "a", "s/x")]);

    [Fact]
    public void ExchangeWithOwnDescendantThroughSymlinkIsEinval() =>
        DifferentialRun.AssertSame(Chunk4K, [Dir("a"), Dir("a/c"), Symlink("s", "a")], [new(OpKind.Rename, "a", "s/c", Flags: 2)]);

    [Fact]
    public void ExchangeSymlinkWithEntryOfDirectoryItPointsTo() =>
        DifferentialRun.AssertSame(Chunk4K, [Symlink("a", "b/c"), Dir("b"), Dir("b/c", 0x1E8)],
            [new(OpKind.Create, "b/c/c", A: 779, B: 0x1A4, Seed: 5792), new(OpKind.Rename, "a", "a/c", Flags: 2)]);

    [Fact]
    public void MoveSymlinkIntoDirectoryItPointsTo() =>
        DifferentialRun.AssertSame(Chunk4K, [Dir("d"), Symlink("s", "d")], [new(OpKind.Rename, "s", "s/x")]);

    [Fact]
    public void RenameFileIntoPathBelowItselfIsEnotdir() =>
        DifferentialRun.AssertSame(Chunk4K, [File("f", 5)], [new(OpKind.Rename, "f", "f/x")]);

    [Fact]
    public void RenameMissingIntoPathBelowItselfIsEnoent() =>
        DifferentialRun.AssertSame(Chunk4K, [], [new(OpKind.Rename, "m", "m/x")]);

    [Fact]
    public void CreateThroughParentThatIsSymlinkToDirectory() =>
        DifferentialRun.AssertSame(Chunk4K, [Dir("c"), Symlink("c/a", ".")], [new(OpKind.Create, "c/a/b", A: 9862, B: 0x1ED, Seed: 9597)]);

    [Fact]
    public void MkdirPThroughSymlinkToDirectory() =>
        DifferentialRun.AssertSame(Chunk64K, [Dir("d"), Symlink("a", "d")], [new(OpKind.Mkdir, "a/b", A: 0x16D)]);

    [Fact]
    public void MkdirPThroughDanglingSymlinkIsEexist() =>
        DifferentialRun.AssertSame(Chunk64K, [Symlink("a", "zz")], [new(OpKind.Mkdir, "a/b", A: 0x16D)]);

    [Fact]
    public void MkdirPThroughSymlinkLoopIsEloop() =>
        DifferentialRun.AssertSame(Chunk64K, [Symlink("l", "l")], [new(OpKind.Mkdir, "l/b", A: 0x16D)]);

    [Fact]
    public void MkdirPOfSymlinkToDirectoryIsFine() =>
        DifferentialRun.AssertSame(Chunk64K, [Dir("d"), Symlink("a", "d")], [new(OpKind.Mkdir, "a", A: 0x16D)]);

    [Fact]
    public void EmptyWritePastEndDoesNotExtend() =>
        DifferentialRun.AssertSame(Chunk4K, [File("a", 0)], [new(OpKind.WriteAt, "a", A: 51051, B: 0, Seed: 6755)]);

    [Fact]
    public void EmptyWriteToDirectoryIsEisdir() =>
        DifferentialRun.AssertSame(Chunk4K, [Dir("a")], [new(OpKind.WriteAt, "a", Seed: 3027)]);

    /// <summary>Not differential: readdir while the committer moves the memtable to SQLite must list a name
    /// created just before and not list one removed just before.</summary>
    [Fact]
    public void EnumerateIsCurrentWhileCommitting()
    {
        using var t = new TempStore();
        using var store = t.Create(new StoreOptions { CommitInterval = TimeSpan.FromMilliseconds(1) });
        using var fs = store.OpenFileSystem();
        for (int i = 0; i < 300; i++) fs.WriteAllBytes($"old{i}", [1]);
        fs.Flush();
        int missing = 0, stale = 0, n = 0;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; sw.Elapsed.TotalSeconds < 3; i++, n++)
        {
            fs.WriteAllBytes($"f{i}", [1]);
            if (!fs.Enumerate("").Any(e => e.NameString == $"f{i}")) missing++;
            fs.Delete($"f{i}");
            if (fs.Enumerate("").Any(e => e.NameString == $"f{i}")) stale++;
        }
        Assert.True(missing == 0 && stale == 0,
            $"of {n} rounds, Enumerate missed the file created just before {missing} times and listed the file deleted just before {stale} times");
    }
}
