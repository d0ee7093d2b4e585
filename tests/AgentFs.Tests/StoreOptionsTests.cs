namespace AgentFs.Tests;

/// <summary>The library's tuning comes from <see cref="StoreOptions"/>, not from environment variables.</summary>
public class StoreOptionsTests
{
    [Fact]
    public void CommitLog_gets_one_line_per_group_commit_and_the_environment_variable_alone_does_nothing()
    {
        using var t = new TempStore();
        var log = new StringWriter();
        using (var s = t.Create(new StoreOptions { CommitLog = log }))
        using (var fs = s.OpenFileSystem())
        {
            fs.WriteAllText("a.txt", "one");
            fs.Flush();
            fs.WriteAllText("b.txt", "two");
            fs.Flush();
        }
        string[] commits = log.ToString().Split('\n').Where(l => l.StartsWith("agentfs: commit ", StringComparison.Ordinal)).ToArray();
        Assert.True(commits.Length >= 2, $"expected a line per commit, got:\n{log}");
        Assert.Contains(log.ToString().Split('\n'), l => l.StartsWith("agentfs: apply dentries ", StringComparison.Ordinal));

        // The variable the library used to read on its own: with default options, nothing is reported anywhere.
        Environment.SetEnvironmentVariable("AGENTFS_TRACE_COMMITS", "1");
        try
        {
            var stderr = Console.Error;
            var captured = new StringWriter();
            Console.SetError(captured);
            try
            {
                using var s = AgentStore.Open(t.StorePath);
                using var fs = s.OpenFileSystem();
                fs.WriteAllText("c.txt", "three");
                fs.Flush();
            }
            finally { Console.SetError(stderr); }
            Assert.DoesNotContain("agentfs: commit", captured.ToString());
        }
        finally { Environment.SetEnvironmentVariable("AGENTFS_TRACE_COMMITS", null); }
    }

    [Fact]
    public void Tuning_defaults_are_those_the_environment_gave_before()
    {
        var o = new StoreOptions();
        Assert.Equal(16L << 20, o.WalCheckpointBytes);
        Assert.True(o.WalWriteback);
        Assert.Null(o.CommitLog);
    }
}
