using System.Text;
using Microsoft.Data.Sqlite;

namespace AgentFs.Tests.Versions;

public class DiffTests
{
    private static List<string> Show(IEnumerable<FileChange> changes) => changes.Select(c => c.ToString()).ToList();

    [Fact]
    public void Diff_reports_each_kind_of_change()
    {
        using var t = new TempStore();
        t.WriteBase("mod.txt", "one\n");
        t.WriteBase("del.txt", "gone\n");
        t.WriteBase("ren.txt", "same bytes\n");
        t.WriteBase("mode.sh", "x\n");
        t.WriteBase("type", "file\n");
        t.WriteBase("dir/inner.txt", "inner\n");
        t.WriteBase("same.txt", "untouched\n");
        File.CreateSymbolicLink(t.BasePath("lnk"), "mod.txt");
        using var store = t.Create();
        using (var fs = store.OpenFileSystem())
        {
            fs.WriteAllText("mod.txt", "two\n");
            fs.Delete("del.txt");
            fs.Move("ren.txt", "renamed.txt");
            fs.SetMode("mode.sh", 0x1ED);
            fs.Delete("type");
            fs.CreateSymbolicLink("type", "mod.txt");
            fs.Delete("lnk");
            fs.CreateSymbolicLink("lnk", "elsewhere");
            fs.WriteAllText("add.txt", "new\n");
            fs.WriteAllText("same.txt", "untouched\n"); // rewritten with the same bytes: no change
            fs.CreateDirectory("newdir");
        }
        var changes = store.Diff("base", "main");
        Assert.Equal(
        [
            "Added add.txt", "Deleted del.txt", "Modified lnk", "Modified mod.txt", "Modified mode.sh", "Added newdir",
            "Renamed ren.txt -> renamed.txt", "TypeChanged type",
        ], Show(changes));
        var mode = changes.Single(c => c.Path == "mode.sh");
        Assert.True(mode.ModeChanged);
        Assert.False(mode.ContentChanged);
        Assert.Equal(0x81A4, mode.Old!.GitMode);
        Assert.Equal(0x81ED, mode.New!.GitMode);
        Assert.Equal("elsewhere", changes.Single(c => c.Path == "lnk").New!.LinkTarget);
        Assert.True(changes.Single(c => c.Path == "newdir").IsDirectory);
        // Reversed, every change turns around.
        Assert.Equal(
        [
            "Deleted add.txt", "Added del.txt", "Modified lnk", "Modified mod.txt", "Modified mode.sh", "Deleted newdir",
            "Renamed renamed.txt -> ren.txt", "TypeChanged type",
        ], Show(store.Diff("main", "base")));
        Assert.Empty(store.Diff("main", "main"));
        Assert.Empty(store.Diff("base", "base"));
    }

    [Fact]
    public void Diff_between_checkpoints_and_branches_sees_only_what_differs()
    {
        using var t = new TempStore();
        t.WriteBase("a.txt", "a\n");
        using var store = t.Create();
        long cp1, cp2;
        using (var fs = store.OpenFileSystem())
        {
            fs.WriteAllText("one.txt", "1\n");
            cp1 = fs.Checkpoint().Id;
            fs.WriteAllText("two.txt", "2\n");
            fs.WriteAllText("a.txt", "a2\n");
            cp2 = fs.Checkpoint().Id;
        }
        store.CreateBranch("alt", cp1.ToString());
        using (var fs = store.OpenFileSystem("alt")) fs.WriteAllText("alt.txt", "alt\n");
        Assert.Equal(["Modified a.txt", "Added two.txt"], Show(store.Diff(cp1.ToString(), cp2.ToString())));
        Assert.Equal(["Modified a.txt", "Added one.txt", "Added two.txt"], Show(store.Diff("base", cp2.ToString())));
        Assert.Equal(["Added alt.txt"], Show(store.Diff(cp1.ToString(), "alt")));
        Assert.Equal(["Modified a.txt", "Deleted alt.txt", "Added two.txt"], Show(store.Diff("alt", "main")));
    }

    [Fact]
    public void Pending_changes_of_a_branch_open_in_this_process_are_included()
    {
        using var t = new TempStore();
        using var store = t.Create(new StoreOptions { CommitInterval = TimeSpan.FromSeconds(1) });
        using var fs = store.OpenFileSystem();
        fs.WriteAllText("fresh.txt", "not committed yet\n");
        Assert.Equal(["Added fresh.txt"], Show(store.Diff("base", "main")));
        using var view = store.OpenState("main");
        Assert.Equal("not committed yet\n", view.ReadAllText("fresh.txt"));
        Assert.True(view.IsReadOnly);
    }

    [Fact]
    public void A_renamed_directory_shows_its_files_as_renames()
    {
        using var t = new TempStore();
        t.WriteBase("a/x.txt", "x\n");
        t.WriteBase("a/sub/y.txt", "y\n");
        t.WriteBase("a/empty", "");
        using var store = t.Create();
        using (var fs = store.OpenFileSystem()) fs.Move("a", "c");
        Assert.Equal(
        [
            "Deleted a", "Deleted a/empty", "Deleted a/sub", "Added c", "Added c/empty", "Added c/sub",
            "Renamed a/sub/y.txt -> c/sub/y.txt", "Renamed a/x.txt -> c/x.txt",
        ], Show(store.Diff("base", "main")));
    }

    [Fact]
    public void Unknown_refs_are_refused_clearly()
    {
        using var t = new TempStore();
        using var store = t.Create();
        var e = Assert.Throws<AgentFsException>(() => store.Diff("base", "nope"));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains("'nope' is not base, a checkpoint or a branch of store", e.Message);
        e = Assert.Throws<AgentFsException>(() => store.Diff("42", "main"));
        Assert.Contains("checkpoint 42 does not exist", e.Message);
        Assert.Throws<AgentFsException>(() => store.Diff("", "main"));
    }

    [Fact]
    public void A_base_file_changed_under_a_copied_up_file_is_refused_naming_it()
    {
        using var t = new TempStore();
        t.WriteBase("f.txt", "original\n");
        t.WriteBase("g.txt", "untouched by the store\n");
        using var store = t.Create();
        using (var fs = store.OpenFileSystem()) fs.WriteAllText("f.txt", "changed by the agent\n");
        File.WriteAllText(t.BasePath("f.txt"), "changed by someone else\n");
        File.WriteAllText(t.BasePath("g.txt"), "fine: the store never depended on it\n");
        var e = Assert.Throws<AgentFsException>(() => store.Diff("base", "main"));
        Assert.Equal(Errno.EIO, e.Errno);
        Assert.Contains("f.txt (changed in the base)", e.Message);
        Assert.DoesNotContain("g.txt", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        e = Assert.Throws<AgentFsException>(() => store.WritePatch("base", "main", Stream.Null));
        Assert.Contains("refusing to write a patch", e.Message);
    }

    [Fact]
    public void A_base_file_added_where_the_store_made_or_deleted_something_is_refused()
    {
        using var t = new TempStore();
        t.WriteBase("d/old.txt", "old\n");
        using var store = t.Create();
        using (var fs = store.OpenFileSystem())
        {
            fs.WriteAllText("new.txt", "the agent's\n");
            fs.Delete("d", recursive: true);
        }
        Assert.Equal(["Deleted d", "Deleted d/old.txt", "Added new.txt"], Show(store.Diff("base", "main")));
        File.WriteAllText(t.BasePath("new.txt"), "someone else's\n");
        File.WriteAllText(t.BasePath("d/late.txt"), "late\n");
        var e = Assert.Throws<AgentFsException>(() => store.Diff("base", "main"));
        Assert.Equal(Errno.EIO, e.Errno);
        Assert.Contains("new.txt (added to the base after branch main hid or replaced it)", e.Message);
        Assert.Contains("d/late.txt (added to the base", e.Message);
    }

    [Fact]
    public void A_schema_1_store_is_migrated_on_open_and_diffs_before_too()
    {
        using var t = new TempStore();
        t.WriteBase("a.txt", "a\n");
        using (var store = t.Create())
        using (var fs = store.OpenFileSystem())
        {
            fs.WriteAllText("a.txt", "b\n");
            fs.Move("a.txt", "moved.txt");
        }
        using (var c = new SqliteConnection($"Data Source={t.StorePath};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DROP TABLE ops; DROP INDEX dentries_by_ino; PRAGMA user_version=1;"; // what schema 1 was
            cmd.ExecuteNonQuery();
        }
        Assert.Equal(1L, Scalar(t.StorePath, "PRAGMA user_version"));
        // Read-only: no migration; the diff still works (it indexes the links itself).
        using (var ro = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true }))
            Assert.Equal(["Deleted a.txt", "Added moved.txt"], Show(ro.Diff("base", "main")));
        Assert.Equal(1L, Scalar(t.StorePath, "PRAGMA user_version"));
        using (var rw = AgentStore.Open(t.StorePath))
            Assert.Equal(["Deleted a.txt", "Added moved.txt"], Show(rw.Diff("base", "main")));
        Assert.Equal(3L, Scalar(t.StorePath, "PRAGMA user_version"));
        Assert.Equal(1L, Scalar(t.StorePath, "SELECT count(*) FROM sqlite_master WHERE name='dentries_by_ino'"));
    }

    private static object? Scalar(string path, string sql)
    {
        using var c = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    /// <summary>The work of a diff (rows read, lookups, directory listings) is the same over a base of 1,000 and
    /// of 20,000 files when the same 10 files changed: it grows with the changes, not with the tree.</summary>
    [Fact]
    public void Diff_work_does_not_grow_with_the_size_of_the_tree()
    {
        string Run(int files)
        {
            // One big directory: listing it, or looking at each of its entries, would show in the figures.
            using var t = new TempStore();
            string dir = t.BasePath("d000");
            Directory.CreateDirectory(dir);
            for (int i = 0; i < files; i++) File.WriteAllBytes(Path.Combine(dir, $"f{i:00000}.txt"), []);
            t.WriteBase("d000/f00001.txt", "one\ntwo\n");
            using var store = t.Create();
            using (var fs = store.OpenFileSystem())
            {
                fs.WriteAllText("d000/f00001.txt", "one\nthree\n");
                fs.WriteAllText("d000/f00002.txt", "was empty\n");
                fs.SetMode("d000/f00003.txt", 0x1ED);
                fs.Delete("d000/f00004.txt");
                fs.Delete("d000/f00005.txt");
                fs.Move("d000/f00001.txt", "d000/renamed.txt");
                fs.WriteAllText("d000/new1.txt", "new\n");
                fs.CreateDirectory("newdir");
                fs.WriteAllText("newdir/new2.txt", "new 2\n");
                fs.WriteAllText("new3.txt", "new 3\n");
            }
            using var session = store.OpenDiff("base", "main", "diff");
            Assert.Equal(10, session.Changes.Count);
            return session.Stats.ToString();
        }
        string small = Run(1_000), large = Run(20_000);
        Assert.Equal(small, large);
        Assert.Contains("listings=1 ", small); // the new directory's own listing, nothing else
    }
}
