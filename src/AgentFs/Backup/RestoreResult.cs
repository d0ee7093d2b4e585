namespace AgentFs;

/// <summary>What <see cref="AgentStore.Restore"/> did. <see cref="BaseDirectoryExists"/> is false when the base
/// directory the backup names is not on this machine: the store is restored but cannot be opened until it is.</summary>
public sealed record RestoreResult(string BackupPath, string StorePath, string BaseDirectory, bool BaseDirectoryExists,
    string StoreId, bool Replaced, long PageCount, int PageSize, TimeSpan Elapsed, int LeasesCleared)
{
    /// <summary>The size of the store restored, in bytes: <see cref="PageCount"/> pages of <see cref="PageSize"/> bytes.</summary>
    public long Bytes => PageCount * PageSize;
}
