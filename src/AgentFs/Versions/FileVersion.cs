using System.Text;

namespace AgentFs;

/// <summary>One side of a change: what a path held in one state.</summary>
public sealed class FileVersion
{
    internal FileVersion(ulong ino, uint mode, long size, ulong rdev, byte[]? linkTarget)
    {
        Ino = ino;
        Mode = mode;
        Size = size;
        Rdev = rdev;
        RawLinkTarget = linkTarget;
    }

    /// <summary>The inode number in the store (stable for the life of the store).</summary>
    public ulong Ino { get; }
    /// <summary>The whole st_mode: type and permission bits.</summary>
    public uint Mode { get; }
    /// <summary>The size in bytes (st_size).</summary>
    public long Size { get; }
    /// <summary>The device number of a character or block device (st_rdev).</summary>
    public ulong Rdev { get; }
    /// <summary>A symlink's target as the bytes stored (null for anything but a symlink).</summary>
    public byte[]? RawLinkTarget { get; }

    /// <summary>The type, from the S_IFMT bits of <see cref="Mode"/>.</summary>
    public FileType Type => TypeOf(Mode);
    /// <summary>The permission bits of <see cref="Mode"/> (with setuid, setgid and sticky), without the type.</summary>
    public uint Permissions => Mode & PosixMode.PermissionMask;
    /// <summary>A symlink's target decoded as UTF-8 (null for anything but a symlink).</summary>
    public string? LinkTarget => RawLinkTarget == null ? null : Encoding.UTF8.GetString(RawLinkTarget);

    /// <summary>The mode git records: 100644 or 100755 for a file (by the owner's x bit), 120000, 040000; 0 for what git cannot hold.</summary>
    public int GitMode => Type switch
    {
        FileType.File => (Mode & 0x40) != 0 ? 0x81ED : 0x81A4,
        FileType.Symlink => 0xA000,
        FileType.Directory => 0x4000,
        _ => 0,
    };

    internal static FileType TypeOf(uint mode) => (mode & PosixMode.S_IFMT) switch
    {
        PosixMode.S_IFDIR => FileType.Directory,
        PosixMode.S_IFLNK => FileType.Symlink,
        PosixMode.S_IFIFO => FileType.Fifo,
        PosixMode.S_IFSOCK => FileType.Socket,
        PosixMode.S_IFCHR => FileType.CharDevice,
        PosixMode.S_IFBLK => FileType.BlockDevice,
        _ => FileType.File,
    };
}
