namespace AgentFs;

/// <summary>How far a backup or restore has got: database pages copied out of the total (both grow by one page
/// size each). Reported after every step of SQLite's online backup.</summary>
public readonly record struct BackupProgress(long PagesCopied, long PageCount, int PageSize)
{
    public long BytesCopied => PagesCopied * PageSize;
    public long TotalBytes => PageCount * PageSize;
}

/// <summary>
/// What <see cref="AgentStore.Backup"/> wrote. The backup holds the store (every branch, checkpoint, layer and the
/// operation log) but not the base directory, which it names by path (<see cref="BaseDirectory"/>): keep that
/// directory, or a copy at the same path, to use the backup.
/// </summary>
public sealed record BackupResult(string StorePath, string OutputPath, string BaseDirectory, string StoreId,
    long PageCount, int PageSize, TimeSpan Elapsed, int LeasesCleared)
{
    public long Bytes => PageCount * PageSize;
}

/// <summary>What <see cref="AgentStore.Restore"/> did. <see cref="BaseDirectoryExists"/> is false when the base
/// directory the backup names is not on this machine: the store is restored but cannot be opened until it is.</summary>
public sealed record RestoreResult(string BackupPath, string StorePath, string BaseDirectory, bool BaseDirectoryExists,
    string StoreId, bool Replaced, long PageCount, int PageSize, TimeSpan Elapsed, int LeasesCleared)
{
    public long Bytes => PageCount * PageSize;
}
