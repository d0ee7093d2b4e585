using System.Text.Json;

namespace AgentFs.Tests.Trace;

/// <summary>The trace resolves its two states the way the diff does (one ResolveState, one diff engine), so they never disagree.</summary>
public class TraceResolutionTests
{
    private static string[] ChangedPaths(AgentTraceRecord r) =>
        [.. JsonDocument.Parse(r.ToJson()).RootElement.GetProperty("metadata").GetProperty("dev.agentfs").GetProperty("changes")
            .EnumerateArray().Select(c => c.GetProperty("path").GetString()!).Order(StringComparer.Ordinal)];

    [Fact]
    public void Trace_and_diff_agree_on_an_uncommitted_write_of_an_open_writer()
    {
        using var t = new TempStore();
        t.WriteBase("a.txt", "one\ntwo\n");
        t.WriteBase("b.txt", "kept\n");
        // No commit on its own while the test runs: the write stays in the writer's memtable.
        using var store = t.Create(new StoreOptions { CommitInterval = TimeSpan.FromHours(1) });
        using var fs = store.OpenFileSystem();
        fs.WriteAllText("a.txt", "one\nTWO\nthree\n");
        fs.WriteAllText("new.txt", "fresh\n");

        var record = store.Trace();
        var diff = store.Diff("base", "main");

        Assert.Equal(["a.txt", "new.txt"], diff.Select(c => c.Path).Order(StringComparer.Ordinal));
        Assert.Equal(diff.Select(c => c.Path).Order(StringComparer.Ordinal), ChangedPaths(record));
        Assert.Equal(["a.txt", "new.txt"], record.Files.Select(f => f.Path));
        var a = record.Files[0].Conversations.Single().Ranges;
        Assert.Equal([(2, 3)], a.Select(r => (r.StartLine, r.EndLine)));
        AgentTraceSchema.Check(record);
    }

    [Fact]
    public void Trace_work_does_not_grow_with_the_size_of_the_tree()
    {
        (string Stats, string Record) Run(int files)
        {
            // One big directory: listing it, or looking at each of its entries, would show in the figures.
            using var t = new TempStore();
            Directory.CreateDirectory(t.BasePath("d"));
            for (int i = 0; i < files; i++) File.WriteAllBytes(t.BasePath($"d/f{i:00000}.txt"), []);
            t.WriteBase("d/f00001.txt", "one\ntwo\n");
            using var store = t.Create();
            using (var fs = store.OpenFileSystem())
            {
                fs.WriteAllText("d/f00001.txt", "one\nthree\n");
                fs.Checkpoint("first", new Dictionary<string, string> { ["conversation_url"] = "https://chat.example.com/c/1" });
                fs.WriteAllText("d/f00002.txt", "was empty\n");
                fs.Move("d/f00001.txt", "d/renamed.txt");
                fs.WriteAllText("d/renamed.txt", "one\nthree\nfour\n");
                fs.Delete("d/f00004.txt");
                fs.WriteAllText("new.txt", "new\n");
            }
            using var session = store.OpenDiff("base", "main", "trace");
            var record = new TraceBuilder(store, session, "main").Build(CancellationToken.None);
            AgentTraceSchema.Check(record);
            string summary = string.Join(" ", record.Files.Select(f => f.Path + "=" + string.Join("+", f.Conversations.Select(c =>
                (c.Url ?? "-") + ":" + string.Join(",", c.Ranges.Select(r => $"{r.StartLine}-{r.EndLine}"))))));
            return (session.Stats.ToString(), summary);
        }
        var small = Run(1_000);
        var large = Run(20_000);
        Assert.Equal("d/f00002.txt=-:1-1 d/renamed.txt=https://chat.example.com/c/1:2-2+-:3-3 new.txt=-:1-1", small.Record);
        Assert.Equal(small, large);
        Assert.Contains("listings=0 ", small.Stats);
    }
}
