using System.Text.Json;

namespace AgentFs.Tests.Backup;

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
}
