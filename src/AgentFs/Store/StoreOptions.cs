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

/// <summary>A branch: a name and its writable top layer.</summary>
public sealed record BranchInfo(string Name, long TopLayer, long? FromCheckpoint, DateTimeOffset Created);

/// <summary>A sealed state of a branch that can be branched from, rolled back to, diffed and exported.</summary>
public sealed record CheckpointInfo(long Id, string Branch, string? Message, IReadOnlyDictionary<string, string> Meta,
    DateTimeOffset Created, long Layer);
