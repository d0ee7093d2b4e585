namespace AgentFs.Tests;

/// <summary>
/// <see cref="AgentStore.CheckpointIfChanged"/>, what a harness hook calls after every turn: a checkpoint only when
/// the branch changed since its last one, whether the change is still in memory, committed, or made by another view.
/// </summary>
public class CheckpointIfChangedTests
{
    [Fact]
    public void A_checkpoint_only_when_something_changed_since_the_last()
    {
        using var temp = new TempStore();
        using var store = temp.Create();
        using (var fs = store.OpenFileSystem("main"))
        {
            Assert.Null(fs.CheckpointIfChanged("nothing yet"));
            fs.WriteAllText("a.txt", "one\n");                       // in memory, not committed
            var cp = fs.CheckpointIfChanged("turn 1", new Dictionary<string, string> { ["model"] = "m" });
            Assert.NotNull(cp);
            Assert.Equal("m", store.GetCheckpoint(cp!.Id).Meta["model"]);
            Assert.Null(fs.CheckpointIfChanged("turn 2 only read"));
            fs.ReadAllText("a.txt");
            _ = fs.Enumerate("/");
            Assert.Null(fs.CheckpointIfChanged("still nothing"));
            fs.WriteAllText("a.txt", "two\n");
            fs.Flush();                                                // committed this time
            Assert.NotNull(fs.CheckpointIfChanged("turn 3"));
            fs.SetMode("a.txt", Convert.ToUInt32("600", 8));          // metadata alone is a change too
            Assert.NotNull(fs.CheckpointIfChanged("turn 4"));
        }
        // Nobody holds the branch: the store looks at the top layer's rows.
        Assert.Null(store.CheckpointIfChanged("main", "closed, unchanged"));
        using (var fs = store.OpenFileSystem("main")) fs.Delete("a.txt");
        Assert.NotNull(store.CheckpointIfChanged("main", "closed, changed"));
        Assert.Null(store.CheckpointIfChanged("main", "again"));
        Assert.Equal(["turn 1", "turn 3", "turn 4", "closed, changed"], store.ListCheckpoints("main").Select(c => c.Message).Reverse());
    }
}
