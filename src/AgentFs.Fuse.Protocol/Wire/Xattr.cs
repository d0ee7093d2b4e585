using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

/// <summary>
/// struct fuse_setxattr_in as sent without FUSE_SETXATTR_EXT (FUSE_COMPAT_SETXATTR_IN_SIZE), followed by
/// the NUL-terminated name and <see cref="Size"/> bytes of value.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct FuseSetXattrIn
{
    [FieldOffset(0)] public uint Size;
    /// <summary>XATTR_CREATE (1) or XATTR_REPLACE (2).</summary>
    [FieldOffset(4)] public uint Flags;
}

/// <summary>struct fuse_setxattr_in as sent when FUSE_SETXATTR_EXT was negotiated (7.33+).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct FuseSetXattrExtIn
{
    [FieldOffset(0)] public uint Size;
    [FieldOffset(4)] public uint Flags;
    [FieldOffset(8)] public uint SetXattrFlags;
    [FieldOffset(12)] public uint Padding;
}

/// <summary>struct fuse_getxattr_in (GETXATTR, followed by the name; LISTXATTR alone).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct FuseGetXattrIn
{
    /// <summary>Size of the caller's buffer; 0 asks only for the size of the value.</summary>
    [FieldOffset(0)] public uint Size;
    [FieldOffset(4)] public uint Padding;
}

/// <summary>struct fuse_getxattr_out: the reply to a size probe (GETXATTR/LISTXATTR with size 0).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct FuseGetXattrOut
{
    [FieldOffset(0)] public uint Size;
    [FieldOffset(4)] public uint Padding;
}
