namespace AgentFs;

/// <summary>Settings of a store; the chunk size is fixed when the store is created.</summary>
public sealed class StoreOptions
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
}
