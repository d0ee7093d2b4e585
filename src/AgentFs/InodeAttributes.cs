namespace AgentFs;

/// <summary>What stat(2) shows of an inode. Times are nanoseconds since the Unix epoch.</summary>
public readonly record struct InodeAttributes(
    ulong Ino, uint Mode, uint Nlink, uint Uid, uint Gid, ulong Rdev, long Size, long Blocks,
    long AtimeNs, long MtimeNs, long CtimeNs)
{
    public bool IsDirectory => PosixMode.IsDirectory(Mode);
    public bool IsRegular => PosixMode.IsRegular(Mode);
    public bool IsSymlink => PosixMode.IsSymlink(Mode);
}
