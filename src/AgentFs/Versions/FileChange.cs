using System.Text;

namespace AgentFs;

/// <summary>How a path differs between two states (git's A, D, M, T, R).</summary>
public enum ChangeKind
{
    /// <summary>The path exists only in the newer state.</summary>
    Added,
    /// <summary>The path exists only in the older state.</summary>
    Deleted,
    /// <summary>Same type at both sides; content, link target or permission bits differ.</summary>
    Modified,
    /// <summary>A file became a symlink or the other way round (not directories: those are a delete and an add).</summary>
    TypeChanged,
    /// <summary>Deleted at <see cref="FileChange.OldPath"/> and added at <see cref="FileChange.Path"/> with identical content.</summary>
    Renamed,
}

/// <summary>The type of a file system object, as the S_IFMT bits of its mode say.</summary>
public enum FileType { File, Directory, Symlink, Fifo, Socket, CharDevice, BlockDevice }

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
    public long Size { get; }
    public ulong Rdev { get; }
    public byte[]? RawLinkTarget { get; }

    public FileType Type => TypeOf(Mode);
    public uint Permissions => Mode & PosixMode.PermissionMask;
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

/// <summary>
/// One changed path between two states. Paths are relative to the root, '/'-separated, without a leading
/// '/'; names are any bytes, so <see cref="RawPath"/> is exact and <see cref="Path"/> is its UTF-8 reading.
/// Directories are changes of their own (<see cref="IsDirectory"/>); git's formats leave them out.
/// </summary>
public sealed class FileChange
{
    internal FileChange(ChangeKind kind, byte[] path, byte[]? oldPath, FileVersion? old, FileVersion? @new)
    {
        Kind = kind;
        RawPath = path;
        RawOldPath = oldPath;
        Old = old;
        New = @new;
    }

    public ChangeKind Kind { get; }
    /// <summary>The path (for a rename: the new one).</summary>
    public byte[] RawPath { get; }
    /// <summary>For a rename, the old path; otherwise null.</summary>
    public byte[]? RawOldPath { get; }
    public string Path => Encoding.UTF8.GetString(RawPath);
    public string? OldPath => RawOldPath == null ? null : Encoding.UTF8.GetString(RawOldPath);
    /// <summary>What the older state held (null when added).</summary>
    public FileVersion? Old { get; }
    /// <summary>What the newer state holds (null when deleted).</summary>
    public FileVersion? New { get; }

    public bool IsDirectory => (New ?? Old)!.Type == FileType.Directory && (Old == null || New == null || Old.Type == New.Type);
    /// <summary>Bytes (or link target) differ; false for a pure mode change or a rename.</summary>
    public bool ContentChanged { get; internal set; }
    /// <summary>Permission bits differ (any of the twelve, not only the x bit git keeps).</summary>
    public bool ModeChanged => Old != null && New != null && Old.Permissions != New.Permissions;

    /// <summary>The git blob ids of the two sides, when they were computed (rename detection, patches).</summary>
    internal string? OldOid, NewOid;

    public override string ToString() => Kind == ChangeKind.Renamed ? $"{Kind} {OldPath} -> {Path}" : $"{Kind} {Path}";
}
