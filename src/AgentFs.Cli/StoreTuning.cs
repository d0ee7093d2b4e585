namespace AgentFs.Cli;

/// <summary>
/// The store tuning the command takes from environment variables (the library reads none): for measurements
/// and profiling, documented in README.md and benchmarks/README.md.
/// </summary>
internal static class StoreTuning
{
    /// <summary>
    /// Default <see cref="StoreOptions"/> with AGENTFS_WAL_CHECKPOINT_MB (the WAL size that starts a PASSIVE
    /// checkpoint), AGENTFS_WAL_WRITEBACK=0 (no early WAL writeback) and AGENTFS_TRACE_COMMITS=1 (each group
    /// commit reported on stderr) applied.
    /// </summary>
    public static StoreOptions FromEnvironment()
    {
        var options = new StoreOptions();
        if (long.TryParse(Environment.GetEnvironmentVariable("AGENTFS_WAL_CHECKPOINT_MB"), out long mb) && mb >= 0)
            options = options with { WalCheckpointBytes = mb << 20 };
        if (Environment.GetEnvironmentVariable("AGENTFS_WAL_WRITEBACK") == "0")
            options = options with { WalWriteback = false };
        if (Environment.GetEnvironmentVariable("AGENTFS_TRACE_COMMITS") == "1")
            options = options with { CommitLog = TextWriter.Synchronized(Console.Error) };
        return options;
    }
}
