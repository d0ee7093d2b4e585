namespace AgentFs;

/// <summary>
/// What <see cref="AgentStore.Backup"/> wrote. The backup holds the store (every branch, checkpoint, layer and the
/// operation log) but not the base directory, which it names by path (<see cref="BaseDirectory"/>): keep that
/// directory, or a copy at the same path, to use the backup.
/// </summary>
public sealed record BackupResult(string StorePath, string OutputPath, string BaseDirectory, string StoreId,
    long PageCount, int PageSize, TimeSpan Elapsed, int LeasesCleared)
{
    /// <summary>The size of the backup written, in bytes: <see cref="PageCount"/> pages of <see cref="PageSize"/> bytes.</summary>
    public long Bytes => PageCount * PageSize;
}
