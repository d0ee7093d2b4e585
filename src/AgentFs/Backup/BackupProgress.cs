namespace AgentFs;

/// <summary>How far a backup or restore has got: database pages copied out of the total (both grow by one page
/// size each). Reported after every step of SQLite's online backup.</summary>
public readonly record struct BackupProgress(long PagesCopied, long PageCount, int PageSize)
{
    public long BytesCopied => PagesCopied * PageSize;
    public long TotalBytes => PageCount * PageSize;
}
