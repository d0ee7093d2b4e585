using Microsoft.Data.Sqlite;

namespace AgentFs.Tests;

public class BadInputTests
{
    [Fact]
    public void BaseFileChangedUnderCopiedUpFileIsReportedNotMixed()
    {
        using var t = new TempStore();
        var data = new byte[200_000];
        new Random(3).NextBytes(data);
        t.WriteBase("f.bin", data);
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        fs.WriteAt("f.bin", 10, "XY"u8); // copies up one chunk; the rest still comes from the base
        File.WriteAllBytes(t.BasePath("f.bin"), new byte[200_000]); // the base changes underneath
        var e = Assert.Throws<AgentFsException>(() => fs.ReadAllBytes("f.bin"));
        Assert.Equal(Errno.EIO, e.Errno);
        Assert.Contains("f.bin", e.Message);
        Assert.Contains("changed", e.Message);
        // The copied-up chunk itself is still served: no base bytes are needed for it.
        var head = new byte[12];
        Assert.Equal(12, fs.Inodes.Read(fs.GetAttributes("f.bin").Ino, 0, head));
        Assert.Equal((byte)'X', head[10]);
    }

    [Fact]
    public void UntouchedBaseFilesReadThroughEvenAfterTheyChange()
    {
        using var t = new TempStore();
        t.WriteBase("g.txt", "old");
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        Assert.Equal("old", fs.ReadAllText("g.txt"));
        File.WriteAllText(t.BasePath("g.txt"), "new!");
        Assert.Equal("new!", fs.ReadAllText("g.txt"));
    }

    [Fact]
    public void NotAStoreFilesAreRefusedWithoutBeingChanged()
    {
        using var t = new TempStore();
        string text = Path.Combine(t.Root, "notes.txt");
        File.WriteAllText(text, "just text, long enough to have a header of a hundred bytes ........................................");
        var before = File.ReadAllBytes(text);
        var e = Assert.Throws<AgentFsException>(() => AgentStore.Open(text));
        Assert.Contains("not an AgentFs store", e.Message);
        Assert.Equal(before, File.ReadAllBytes(text));

        string other = Path.Combine(t.Root, "other.db");
        using (var c = new SqliteConnection($"Data Source={other};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE x(y); INSERT INTO x VALUES(1);";
            cmd.ExecuteNonQuery();
        }
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(other)));
        e = Assert.Throws<AgentFsException>(() => AgentStore.Open(other));
        Assert.Contains("not an AgentFs store", e.Message);
        Assert.Equal(hash, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(other))));

        e = Assert.Throws<AgentFsException>(() => AgentStore.Open(Path.Combine(t.Root, "missing.agentfs")));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains("agentfs init", e.Message);
    }

    [Fact]
    public void NewerSchemaIsRefused()
    {
        using var t = new TempStore();
        t.Create().Dispose();
        using (var c = new SqliteConnection($"Data Source={t.StorePath};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA user_version=99";
            cmd.ExecuteNonQuery();
        }
        var e = Assert.Throws<AgentFsException>(() => AgentStore.Open(t.StorePath));
        Assert.Contains("schema version 99", e.Message);
        Assert.Contains("newer agentfs", e.Message);
    }

    [Fact]
    public void CorruptStoreGivesAClearError()
    {
        using var t = new TempStore();
        for (int i = 0; i < 50; i++) t.WriteBase($"d/f{i}", new string('x', 5000));
        using (var s = t.Create())
        using (var fs = s.OpenFileSystem())
            for (int i = 0; i < 50; i++) fs.WriteAllText($"d/f{i}", new string('y', 20000));
        var bytes = File.ReadAllBytes(t.StorePath);
        Assert.True(bytes.Length > 100_000);
        new Random(5).NextBytes(bytes.AsSpan(16384, bytes.Length - 16384)); // keep the header, ruin the pages
        File.WriteAllBytes(t.StorePath, bytes);
        var e = Assert.ThrowsAny<AgentFsException>(() =>
        {
            using var s = AgentStore.Open(t.StorePath);
            using var fs = s.OpenFileSystem(readOnly: true);
            for (int i = 0; i < 50; i++) fs.ReadAllBytes($"d/f{i}");
        });
        Assert.DoesNotContain("\n", e.Message);
        Assert.Contains(t.StorePath, e.Message);
    }

    [Fact]
    public void BaseMissingOrAFileAndStoreInsideBaseAreRefused()
    {
        using var t = new TempStore();
        var e = Assert.Throws<AgentFsException>(() => AgentStore.Create(t.StorePath, Path.Combine(t.Root, "nope")));
        Assert.Equal(Errno.ENOENT, e.Errno);
        File.WriteAllText(Path.Combine(t.Root, "file"), "x");
        e = Assert.Throws<AgentFsException>(() => AgentStore.Create(t.StorePath, Path.Combine(t.Root, "file")));
        Assert.Equal(Errno.ENOTDIR, e.Errno);
        e = Assert.Throws<AgentFsException>(() => AgentStore.Create(Path.Combine(t.BaseDir, "s.agentfs"), t.BaseDir));
        Assert.Contains("must not be inside", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(t.BaseDir));
        t.Create().Dispose();
        e = Assert.Throws<AgentFsException>(() => AgentStore.Create(t.StorePath, t.BaseDir));
        Assert.Equal(Errno.EEXIST, e.Errno);
    }

    [Fact]
    public void UnknownBranchesAndCheckpointsAndBadNames()
    {
        using var t = new TempStore();
        using var store = t.Create();
        Assert.Equal(Errno.ENOENT, Assert.Throws<AgentFsException>(() => store.OpenFileSystem("nope")).Errno);
        Assert.Equal(Errno.ENOENT, Assert.Throws<AgentFsException>(() => store.Rollback("main", 42)).Errno);
        Assert.Equal(Errno.ENOENT, Assert.Throws<AgentFsException>(() => store.CreateBranch("b", "nope")).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<AgentFsException>(() => store.CreateBranch("123", "main")).Errno);
        Assert.Equal(Errno.EEXIST, Assert.Throws<AgentFsException>(() => store.CreateBranch("main", "main")).Errno);
        var cp = store.Checkpoint("main");
        store.CreateBranch("other", "main");
        var cpOther = store.Checkpoint("other");
        var e = Assert.Throws<AgentFsException>(() => store.Rollback("main", cpOther.Id));
        Assert.Contains("not in the history of branch main", e.Message);
        using var fs = store.OpenFileSystem();
        Assert.Equal(Errno.EINVAL, Assert.Throws<AgentFsException>(() => fs.WriteAllText("a\0b", "x")).Errno);
        Assert.Equal(Errno.ENAMETOOLONG, Assert.Throws<AgentFsException>(() => fs.WriteAllText(new string('n', 256), "x")).Errno);
        Assert.Equal(Errno.EBUSY, Assert.Throws<AgentFsException>(() => store.OpenFileSystem("main")).Errno);
    }
}
