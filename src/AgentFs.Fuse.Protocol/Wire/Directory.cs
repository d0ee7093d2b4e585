using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

/// <summary>
/// struct fuse_dirent without its flexible name: one READDIR record is this header, the name bytes, and
/// zero padding to a multiple of 8 (FUSE_DIRENT_ALIGN).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct FuseDirent
{
    [FieldOffset(0)] public ulong Ino;
    /// <summary>Offset of the next entry: the kernel passes it back as the offset of the next READDIR.</summary>
    [FieldOffset(8)] public ulong Off;
    [FieldOffset(16)] public uint NameLen;
    /// <summary>DT_* type (the S_IFMT bits of the mode shifted right by 12).</summary>
    [FieldOffset(20)] public uint Type;

    /// <summary>FUSE_NAME_OFFSET.</summary>
    public const int NameOffset = 24;
}

/// <summary>
/// struct fuse_direntplus without its flexible name: one READDIRPLUS record is the entry, the dirent header,
/// the name and padding to a multiple of 8.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 152)]
public struct FuseDirentPlus
{
    [FieldOffset(0)] public FuseEntryOut EntryOut;
    [FieldOffset(128)] public FuseDirent Dirent;

    /// <summary>FUSE_NAME_OFFSET_DIRENTPLUS.</summary>
    public const int NameOffset = 152;
}
