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

/// <summary>A directory entry as readdir returns it. <see cref="Offset"/> is the cookie that continues after it.</summary>
public readonly record struct DirectoryEntry(byte[] Name, ulong Ino, uint Mode, long Offset)
{
    public string NameString => System.Text.Encoding.UTF8.GetString(Name);
}

/// <summary>Which fields a setattr changes (the FATTR_* valid mask of FUSE, as flags).</summary>
[Flags]
public enum SetAttrFields
{
    None = 0, Mode = 1, Uid = 2, Gid = 4, Size = 8, Atime = 16, Mtime = 32, AtimeNow = 128, MtimeNow = 256, Ctime = 1024,
}

/// <summary>A setattr request; only the fields named in <see cref="Fields"/> are applied.</summary>
public record struct SetAttrRequest(SetAttrFields Fields, uint Mode = 0, uint Uid = 0, uint Gid = 0, long Size = 0,
    long AtimeNs = 0, long MtimeNs = 0, long CtimeNs = 0);

/// <summary>The caller of an operation, recorded in the operation log (FUSE fills it from the request header).</summary>
public readonly record struct Caller(int Pid, uint Uid, uint Gid);

/// <summary>statfs(2) figures.</summary>
public readonly record struct FileSystemStats(ulong BlockSize, ulong Blocks, ulong BlocksFree, ulong BlocksAvailable,
    ulong Files, ulong FilesFree, uint NameMax);

/// <summary>rename(2)/renameat2(2) flags.</summary>
[Flags]
public enum RenameFlags { None = 0, NoReplace = 1, Exchange = 2 }
