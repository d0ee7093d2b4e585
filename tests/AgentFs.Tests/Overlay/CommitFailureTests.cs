using System.Diagnostics;

namespace AgentFs.Tests;

/// <summary>
/// The library on a store whose disk fills up (a small tmpfs): a failed group commit is reported to every writer
/// call and to fsync, the changes it held are kept and committed once there is room, and closing a view whose
/// last commit fails throws, naming what was not saved.
/// </summary>
public sealed class CommitFailureTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("agentfs-commitfail-").FullName;
    private readonly string _small, _store, _filler;

    public CommitFailureTests()
    {
        _small = Path.Combine(_root, "small");
        Directory.CreateDirectory(_small);
        Directory.CreateDirectory(Path.Combine(_root, "base"));
        Sh($"mount -t tmpfs -o size=12m tmpfs {_small}");
        _store = Path.Combine(_small, "s.agentfs");
        _filler = Path.Combine(_small, "filler");
        AgentStore.Create(_store, Path.Combine(_root, "base")).Dispose();
    }

    private static StoreOptions Options => new() { CommitInterval = TimeSpan.FromMilliseconds(50), ControlSocket = false };

    [Fact]
    public void AFailedCommitFailsEveryLaterWriteAndFsyncAndIsRetriedWhenThereIsRoom()
    {
        var accepted = new Dictionary<string, byte[]>();
        using (var store = AgentStore.Open(_store, Options))
        using (var fs = store.OpenFileSystem())
        {
            fs.WriteAllText("early.txt", "before\n");
            fs.Inodes.Fsync();
            File.WriteAllBytes(_filler, new byte[6 << 20]); // given back below
            var failure = FillUntilRefused(fs, accepted);

            Assert.Equal(Errno.ENOSPC, failure.Errno);
            Assert.Contains(_store, failure.Message);
            Assert.Contains("the disk is full", failure.Message);
            Assert.NotNull(fs.CommitError);
            // Every writer call now reports it (nothing it accepted could be saved), and so does fsync.
            foreach (Action change in new Action[]
                     {
                         () => fs.WriteAllText("later.txt", "x"), () => fs.CreateDirectory("dir"), () => fs.Delete("early.txt"),
                         () => fs.SetMode("early.txt", 0x180), () => fs.Move("early.txt", "moved.txt"), () => fs.Inodes.Fsync(),
                     })
            {
                var e = Assert.Throws<AgentFsException>(change);
                Assert.Equal(Errno.ENOSPC, e.Errno);
                Assert.Contains(_store, e.Message);
            }
            Assert.Equal("before\n", fs.ReadAllText("early.txt")); // reads go on

            File.Delete(_filler);
            fs.Inodes.Fsync(); // retries the kept changes first, then commits durably
            Assert.Null(fs.CommitError);
            fs.WriteAllText("later.txt", "after room\n");
        }
        using (var store = AgentStore.Open(_store, Options))
        using (var fs = store.OpenFileSystem(readOnly: true))
        {
            Assert.Equal("before\n", fs.ReadAllText("early.txt"));
            Assert.Equal("after room\n", fs.ReadAllText("later.txt"));
            foreach (var (name, data) in accepted) Assert.True(data.AsSpan().SequenceEqual(fs.ReadAllBytes(name)), $"{name} differs");
        }
        Assert.Equal("ok", Sh($"sqlite3 {_store} 'PRAGMA integrity_check'").Trim());
    }

    [Fact]
    public void ClosingAViewWhoseLastCommitFailsThrowsNamingWhatWasNotSaved()
    {
        var accepted = new Dictionary<string, byte[]>();
        var store = AgentStore.Open(_store, Options);
        var fs = store.OpenFileSystem();
        fs.WriteAllText("early.txt", "before\n");
        fs.Inodes.Fsync();
        Sh($"head -c 64M /dev/zero > {_filler} || true"); // fills the tmpfs
        FillUntilRefused(fs, accepted);

        var notSaved = Assert.Throws<AgentFsException>(fs.Dispose);
        Assert.Equal(Errno.ENOSPC, notSaved.Errno);
        Assert.Contains($"were not saved to store {_store}: the disk is full", notSaved.Message);
        Assert.Matches(@"^\d+ changed files or directories \([1-9]\d* bytes of data\) of branch main", notSaved.Message);
        store.Dispose();

        File.Delete(_filler);
        Assert.Equal("ok", Sh($"sqlite3 {_store} 'PRAGMA integrity_check'").Trim());
        using var again = AgentStore.Open(_store, Options);
        using var view = again.OpenFileSystem();
        Assert.Equal("before\n", view.ReadAllText("early.txt"));
    }

    [Fact]
    public void DisposingTheStoreReportsAViewsFailedLastCommit()
    {
        var store = AgentStore.Open(_store, new StoreOptions { CommitInterval = TimeSpan.FromHours(1), ControlSocket = false });
        var fs = store.OpenFileSystem();
        fs.WriteAllText("first", "reserves inode numbers while there is room\n");
        fs.Inodes.Fsync();
        Sh($"head -c 64M /dev/zero > {_filler} || true");
        fs.WriteAllBytes("big", new byte[2 << 20]); // stays in memory: the next commit is the store's last
        var notSaved = Assert.Throws<AgentFsException>(store.Dispose);
        Assert.Contains("were not saved", notSaved.Message);
    }

    /// <summary>Writes 256 KiB files (no fsync), pausing for the group commit, until a write is refused.</summary>
    private static AgentFsException FillUntilRefused(AgentFileSystem fs, Dictionary<string, byte[]> accepted)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 400 && clock.Elapsed < TimeSpan.FromSeconds(60); i++)
        {
            var data = new byte[256 * 1024];
            Random.Shared.NextBytes(data);
            try { fs.WriteAllBytes($"f{i}", data); }
            catch (AgentFsException e) { return e; }
            accepted[$"f{i}"] = data;
            Thread.Sleep(60);
        }
        throw new Xunit.Sdk.XunitException($"{accepted.Count} files of 256 KiB were accepted on a 12 MiB disk without an error");
    }

    private static string Sh(string cmd)
    {
        var p = Process.Start(new ProcessStartInfo("bash", ["-c", cmd]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var e = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new Xunit.Sdk.XunitException($"{cmd} exited {p.ExitCode}: {e.Result}");
        return o;
    }

    public void Dispose()
    {
        Process.Start("umount", ["-l", _small])!.WaitForExit();
        try { Directory.Delete(_root, true); } catch { }
    }
}
