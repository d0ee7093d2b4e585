namespace AgentFs;

/// <summary>
/// Settings of a store; the chunk size is fixed when the store is created. The library's tuning is read from
/// here only, never from the environment: a program that wants environment variables maps them (the command's
/// StoreTuning does).
/// </summary>
public sealed record StoreOptions
{
    /// <summary>Granularity of copy-up and storage of file data (bytes, a power of two from 4 KiB to 1 MiB).</summary>
    public int ChunkSize { get; init; } = 64 * 1024;

    /// <summary>Changes are committed at the latest this long after they were made (group commit).</summary>
    public TimeSpan CommitInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Uncommitted data above this many bytes starts a commit at once.</summary>
    public long MaxDirtyBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>A writable view serves control requests (checkpoint, rollback, commit) from other processes on a Unix socket.</summary>
    public bool ControlSocket { get; init; } = true;

    /// <summary>Open without writing anything (no migration, no lease, no WAL checkpoint).</summary>
    public bool ReadOnly { get; init; }

    /// <summary>A WAL this large is copied into the store at once (a PASSIVE checkpoint, which waits for nobody).</summary>
    public long WalCheckpointBytes { get; init; } = 16L << 20;

    /// <summary>After a commit that was not synced, start writing the WAL's new pages to disk (sync_file_range), so
    /// the next fsync finds little left to write. Off only to measure what it brings.</summary>
    public bool WalWriteback { get; init; } = true;

    /// <summary>Where each group commit reports its size and time, one line each (for profiling); null: nowhere.</summary>
    public TextWriter? CommitLog { get; init; }
}
