using static AgentFs.Tests.Backup.BackupTestKit;

namespace AgentFs.Tests.Backup;

public class RestoreTests
{
    /// <summary>A store with two branches, checkpoints with metadata, and files of several kinds.</summary>
    private static void Populate(TempStore t)
    {
        PopulateCore(t);
        ReleaseClosedStores();
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void PopulateCore(TempStore t)
    {
        t.WriteBase("src/main.c", "int main(void) { return 0; }\n");
        t.WriteBase("doc/readme.md", "# readme\n");
        using var store = t.Create();
        using (var fs = store.OpenFileSystem())
        {
            fs.WriteAllText("src/main.c", "int main(void) { return 1; }\n");
            fs.CreateSymbolicLink("link", "src/main.c");
            fs.SetXattr("doc/readme.md", "user.note", "hello"u8);
            fs.Checkpoint("task 1", new Dictionary<string, string> { ["conversation_url"] = "https://example.com/c/1" });
            fs.WriteAllBytes("data.bin", Enumerable.Range(0, 300_000).Select(i => (byte)(i * 13)).ToArray());
            fs.Delete("doc/readme.md");
        }
        store.CreateBranch("try-b", "1");
        using (var fs = store.OpenFileSystem("try-b"))
            fs.WriteAllText("b-only.txt", "b\n");
    }

    [Fact]
    public void Restore_of_a_backup_gives_back_every_branch_checkpoint_and_file()
    {
        using var t = new TempStore();
        Populate(t);
        string before = Snapshot(t.StorePath);
        string backup = Path.Combine(t.Root, "b.agentfs");
        using (var s = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true })) s.Backup(backup);
        string restored = Path.Combine(t.Root, "restored.agentfs");
        var r = AgentStore.Restore(backup, restored);
        Assert.False(r.Replaced);
        Assert.True(r.BaseDirectoryExists);
        Assert.Equal(t.BaseDir, r.BaseDirectory);
        Assert.Equal(before, Snapshot(restored));
        Assert.Equal(before, Snapshot(t.StorePath));
        Assert.Equal(new[] { "restored.agentfs" }, FilesNamedLike(restored).Where(n => !n.EndsWith("-shm") && !n.EndsWith("-wal")));
        // The restored store is a working store: it can be written.
        using var store = AgentStore.Open(restored);
        using var fs = store.OpenFileSystem("main");
        fs.WriteAllText("after-restore", "ok");
        Assert.Equal("ok", fs.ReadAllText("after-restore"));
    }

    [Fact]
    public void Restore_clears_the_leases_a_copy_taken_while_mounted_carries()
    {
        using var t = new TempStore();
        using var store = t.Create();
        using var fs = store.OpenFileSystem("main"); // holds the lease of main
        fs.WriteAllText("a", "1");
        fs.Flush();
        // A plain copy of the file (not 'agentfs backup') carries the lease row.
        string copy = Path.Combine(t.Root, "raw-copy.agentfs");
        using (var c = OpenRaw(t.StorePath, readOnly: false))
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"VACUUM INTO '{copy}'";
            cmd.ExecuteNonQuery();
        }
        Assert.Equal(1, Count(copy, "leases"));
        string restored = Path.Combine(t.Root, "restored.agentfs");
        var r = AgentStore.Restore(copy, restored);
        Assert.Equal(1, r.LeasesCleared);
        Assert.Equal(0, Count(restored, "leases"));
        Assert.Equal("wal", JournalMode(restored));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void WithReader(string storePath, Action<AgentFileSystem> work)
    {
        using (var reader = AgentStore.Open(storePath, new StoreOptions { ReadOnly = true }))
        using (var view = reader.OpenFileSystem("main", readOnly: true))
            work(view);
        ReleaseClosedStores();
    }

    private static string JournalMode(string path)
    {
        using var c = OpenRaw(path);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode";
        return (string)cmd.ExecuteScalar()!;
    }

    [Fact]
    public void Restore_refuses_an_existing_store_without_force_and_changes_nothing()
    {
        using var t = new TempStore();
        Populate(t);
        string backup = Path.Combine(t.Root, "b.agentfs");
        using (var s = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true })) s.Backup(backup);
        WithWriter(t.StorePath, "main", fs => fs.WriteAllText("later.txt", "written after the backup"));
        string before = Snapshot(t.StorePath);

        var e = Assert.Throws<AgentFsException>(() => AgentStore.Restore(backup, t.StorePath));
        Assert.Equal(Errno.EEXIST, e.Errno);
        Assert.Contains("--force", e.Message);
        Assert.Equal(before, Snapshot(t.StorePath));
        Assert.False(File.Exists(t.StorePath + ".tmp"));

        var r = AgentStore.Restore(backup, t.StorePath, force: true);
        Assert.True(r.Replaced);
        Assert.NotEqual(before, Snapshot(t.StorePath));
        Assert.Equal(Snapshot(backup), Snapshot(t.StorePath));
        Assert.False(File.Exists(t.StorePath + ".tmp"));
    }

    [Fact]
    public void Restore_refuses_a_store_that_is_open_for_writing_or_reading()
    {
        using var t = new TempStore();
        Populate(t);
        string backup = Path.Combine(t.Root, "b.agentfs");
        using (var s = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true })) s.Backup(backup);

        WithWriter(t.StorePath, "try-b", fs =>
        {
            fs.WriteAllText("x", "in progress");
            fs.Flush();
            string before = Snapshot(t.StorePath);
            var e = Assert.Throws<AgentFsException>(() => AgentStore.Restore(backup, t.StorePath, force: true));
            Assert.Equal(Errno.EBUSY, e.Errno);
            Assert.Contains("try-b", e.Message);
            Assert.Contains(Environment.ProcessId.ToString(), e.Message);
            Assert.Equal(before, Snapshot(t.StorePath));
            Assert.Equal("in progress", fs.ReadAllText("x"));
        });

        WithReader(t.StorePath, view =>
        {
            view.ReadAllText("src/main.c"); // leaves a pooled read connection open on the store
            var e = Assert.Throws<AgentFsException>(() => AgentStore.Restore(backup, t.StorePath, force: true));
            Assert.Equal(Errno.EBUSY, e.Errno);
            Assert.Contains("in use", e.Message);
            Assert.Equal("int main(void) { return 1; }\n", view.ReadAllText("src/main.c"));
        });
        Assert.Equal("wal", JournalMode(t.StorePath)); // the refused replace gave the store its WAL mode back
        AgentStore.Restore(backup, t.StorePath, force: true);
        Assert.Equal(Snapshot(backup), Snapshot(t.StorePath));
    }

    [Fact]
    public void Restore_removes_a_stale_wal_so_it_is_not_replayed_into_the_restored_store()
    {
        using var t = new TempStore();
        Populate(t);
        string backup = Path.Combine(t.Root, "b.agentfs");
        using (var s = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true })) s.Backup(backup);

        // A WAL full of committed frames of another database, lying where the restored store's WAL will be.
        string target = Path.Combine(t.Root, "target.agentfs");
        using var other = new TempStore();
        other.WriteBase("x", "x");
        using (var s = other.Create())
        using (var fs = s.OpenFileSystem())
        {
            for (int i = 0; i < 50; i++) fs.WriteAllText($"junk{i}", new string('j', 10_000));
            fs.Flush();
            File.Copy(other.StorePath + "-wal", target + "-wal");
        }
        Assert.True(new FileInfo(target + "-wal").Length > 0);
        AgentStore.Restore(backup, target);
        Assert.Equal("ok", QuickCheck(target));
        Assert.Equal(Snapshot(backup), Snapshot(target));
    }

    [Fact]
    public void Restore_replaces_a_damaged_store_with_force()
    {
        using var t = new TempStore();
        Populate(t);
        string backup = Path.Combine(t.Root, "b.agentfs");
        using (var s = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true })) s.Backup(backup);
        // Damage every page after the header page.
        using (var f = new FileStream(t.StorePath, FileMode.Open, FileAccess.Write))
        {
            var junk = new byte[16384];
            new Random(1).NextBytes(junk);
            for (long off = 16384; off < f.Length; off += junk.Length) { f.Position = off; f.Write(junk); }
        }
        AgentStore.Restore(backup, t.StorePath, force: true);
        Assert.Equal(Snapshot(backup), Snapshot(t.StorePath));
    }

    [Fact]
    public void Restore_refuses_what_is_not_a_store_and_leaves_no_file_behind()
    {
        using var t = new TempStore();
        Populate(t);
        string notStore = Path.Combine(t.Root, "notes.txt");
        File.WriteAllText(notStore, "just text, long enough to have a header of a hundred bytes...........................................");
        string target = Path.Combine(t.Root, "target.agentfs");
        var e = Assert.Throws<AgentFsException>(() => AgentStore.Restore(notStore, target));
        Assert.Contains("not an AgentFs store", e.Message);
        Assert.Contains(notStore, e.Message);
        Assert.Empty(FilesNamedLike(target));

        e = Assert.Throws<AgentFsException>(() => AgentStore.Restore(Path.Combine(t.Root, "nope"), target));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Empty(FilesNamedLike(target));

        // Nor is something that is not a store replaced, even with force.
        e = Assert.Throws<AgentFsException>(() => AgentStore.Restore(t.StorePath, notStore, force: true));
        Assert.Contains("not an AgentFs store", e.Message);
        Assert.StartsWith("just text", File.ReadAllText(notStore));

        e = Assert.Throws<AgentFsException>(() => AgentStore.Restore(t.StorePath, t.StorePath, force: true));
        Assert.Contains("same file", e.Message);
    }

    [Fact]
    public void Restore_to_an_unwritable_directory_fails_clearly()
    {
        using var t = new TempStore();
        Populate(t);
        using var dir = new UnwritableDirectory(t.Root);
        if (!dir.Usable) return; // no way to make an unwritable directory here (chattr unsupported)
        string target = Path.Combine(dir.Path, "s.agentfs");
        var e = Assert.Throws<AgentFsException>(() => AgentStore.Restore(t.StorePath, target));
        Assert.Contains(target, e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Restore_of_a_store_whose_base_is_elsewhere_says_so()
    {
        using var t = new TempStore();
        Populate(t);
        string backup = Path.Combine(t.Root, "b.agentfs");
        using (var s = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true })) s.Backup(backup);
        Directory.Move(t.BaseDir, t.BaseDir + ".moved");
        try
        {
            var r = AgentStore.Restore(backup, Path.Combine(t.Root, "r.agentfs"));
            Assert.False(r.BaseDirectoryExists);
            Assert.Equal(t.BaseDir, r.BaseDirectory);
        }
        finally { Directory.Move(t.BaseDir + ".moved", t.BaseDir); }
        Assert.Equal(Snapshot(backup), Snapshot(Path.Combine(t.Root, "r.agentfs")));
    }
}
