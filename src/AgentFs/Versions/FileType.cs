namespace AgentFs;

/// <summary>The type of a file system object, as the S_IFMT bits of its mode say.</summary>
public enum FileType
{
    /// <summary>A regular file (S_IFREG; also what a mode of no known type is taken for).</summary>
    File,
    /// <summary>A directory (S_IFDIR).</summary>
    Directory,
    /// <summary>A symbolic link (S_IFLNK).</summary>
    Symlink,
    /// <summary>A named pipe (S_IFIFO).</summary>
    Fifo,
    /// <summary>A Unix domain socket (S_IFSOCK).</summary>
    Socket,
    /// <summary>A character device (S_IFCHR).</summary>
    CharDevice,
    /// <summary>A block device (S_IFBLK).</summary>
    BlockDevice,
}
