using Microsoft.Data.Sqlite;

namespace AgentFs.Tests;

/// <summary><see cref="AgentStore.ReadHistory"/>: each checkpoint's and branch head's parent checkpoint, through
/// branches from checkpoints and from branch heads, rollbacks that leave checkpoints behind, and a layer chain that
/// is not a chain (refused as corrupt, never followed).</summary>
public class StoreHistoryTests
{
    [Fact]
    public void Parents_follow_checkpoints_branches_and_rollbacks()
    {
        using var t = new TempStore();
        using (var store = t.Create())
        {
            var c1 = store.Checkpoint("main", "one");
            var c2 = store.Checkpoint("main", "two");
            store.CreateBranch("side", c1.Id.ToString());
            var c3 = store.Checkpoint("side", "on side");
            store.CreateBranch("copy", "side");      // seals side's head as checkpoint 4 first
            var c5 = store.Checkpoint("main", "three");
            store.Rollback("main", c2.Id);

            var h = store.ReadHistory();
            Assert.Equal([1L, 2, 3, 4, 5], h.Checkpoints.Select(c => c.Id));
            Assert.Equal(["copy", "main", "side"], h.Branches.Select(b => b.Name));
            Assert.Null(h.ParentOf(c1.Id));
            Assert.Equal(c1.Id, h.ParentOf(c2.Id));
            Assert.Equal(c1.Id, h.ParentOf(c3.Id));
            Assert.Equal(c3.Id, h.ParentOf(4));
            Assert.Equal(c2.Id, h.ParentOf(c5.Id));    // left behind by the rollback, still in the tree
            Assert.Equal(c2.Id, h.HeadParentOf("main"));
            Assert.Equal(4, h.HeadParentOf("side"));
            Assert.Equal(4, h.HeadParentOf("copy"));
            Assert.Throws<ArgumentException>(() => h.ParentOf(99));
        }
        using var fresh = new TempStore();
        using var empty = fresh.Create();
        Assert.Null(empty.ReadHistory().HeadParentOf("main"));
    }

    [Fact]
    public void A_layer_whose_parent_is_not_below_it_is_refused_as_corrupt_not_followed()
    {
        using var t = new TempStore();
        using (var store = t.Create())
        {
            store.Checkpoint("main", "one");
            store.Checkpoint("main", "two");
        }
        // Opening verifies the chain; a store changed behind an open one (another process) is caught when read.
        using var reopened = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        Assert.Equal(1, reopened.ReadHistory().ParentOf(2));
        using (var c = new SqliteConnection($"Data Source={t.StorePath};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            // Layer 1 (under checkpoint 1) now points up at layer 3, the top: a cycle 3 -> 2 -> 1 -> 3.
            cmd.CommandText = "UPDATE layers SET parent=3 WHERE id=1";
            Assert.Equal(1, cmd.ExecuteNonQuery());
        }
        var e = Assert.Throws<AgentFsException>(() => reopened.ReadHistory());
        Assert.True(e.IsStoreCorrupt, e.Message);
        Assert.Contains("cycle", e.Message);
        Assert.Contains(t.StorePath, e.Message);
    }
}
