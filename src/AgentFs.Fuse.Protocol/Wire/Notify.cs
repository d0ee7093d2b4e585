using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

/// <summary>struct fuse_notify_inval_inode_out: drop cached attributes and the given range of cached pages.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct FuseNotifyInvalInodeOut
{
    [FieldOffset(0)] public ulong Ino;
    /// <summary>Start of the page range to drop; negative drops only the attributes.</summary>
    [FieldOffset(8)] public long Off;
    /// <summary>Length of the range; 0 or less means to the end of the file.</summary>
    [FieldOffset(16)] public long Len;
}

/// <summary>struct fuse_notify_inval_entry_out, followed by the name and a NUL.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct FuseNotifyInvalEntryOut
{
    [FieldOffset(0)] public ulong Parent;
    [FieldOffset(8)] public uint NameLen;
    [FieldOffset(12)] public uint Flags;
}

/// <summary>struct fuse_notify_delete_out, followed by the name and a NUL.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct FuseNotifyDeleteOut
{
    [FieldOffset(0)] public ulong Parent;
    [FieldOffset(8)] public ulong Child;
    [FieldOffset(16)] public uint NameLen;
    [FieldOffset(20)] public uint Padding;
}
