namespace AgentFs;

/// <summary>How far a backup or restore has got: database pages copied out of the total (both grow by one page
/// size each). Reported after every step of SQLite's online backup.</summary>
public readonly record struct BackupProgress(long PagesCopied, long PageCount, int PageSize)
{
    /// <summary>The bytes copied so far: <see cref="PagesCopied"/> pages of <see cref="PageSize"/> bytes.</summary>
    public long BytesCopied => PagesCopied * PageSize;
    /// <summary>The size of the database being copied, in bytes: <see cref="PageCount"/> pages of <see cref="PageSize"/> bytes.</summary>
    public long TotalBytes => PageCount * PageSize;
}
