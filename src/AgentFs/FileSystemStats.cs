namespace AgentFs;

/// <summary>statfs(2) figures.</summary>
public readonly record struct FileSystemStats(ulong BlockSize, ulong Blocks, ulong BlocksFree, ulong BlocksAvailable,
    ulong Files, ulong FilesFree, uint NameMax);
