using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

/// <summary>
/// struct fuse_attr: what stat(2) shows. Times are seconds since the epoch (signed in the kernel) plus
/// nanoseconds. <see cref="Ino"/> is st_ino as seen by user space; it need not equal the node id.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 88)]
public struct FuseAttr
{
    [FieldOffset(0)] public ulong Ino;
    [FieldOffset(8)] public ulong Size;
    /// <summary>Number of 512-byte blocks allocated.</summary>
    [FieldOffset(16)] public ulong Blocks;
    [FieldOffset(24)] public ulong Atime;
    [FieldOffset(32)] public ulong Mtime;
    [FieldOffset(40)] public ulong Ctime;
    [FieldOffset(48)] public uint AtimeNsec;
    [FieldOffset(52)] public uint MtimeNsec;
    [FieldOffset(56)] public uint CtimeNsec;
    /// <summary>File type and permission bits (S_IFMT | 07777).</summary>
    [FieldOffset(60)] public uint Mode;
    [FieldOffset(64)] public uint Nlink;
    [FieldOffset(68)] public uint Uid;
    [FieldOffset(72)] public uint Gid;
    [FieldOffset(76)] public uint Rdev;
    [FieldOffset(80)] public uint BlkSize;
    [FieldOffset(84)] public uint Flags;
}

/// <summary>
/// struct fuse_entry_out: the reply to LOOKUP, MKNOD, MKDIR, SYMLINK, LINK and CREATE, and the head of a
/// READDIRPLUS entry. A reply with <see cref="NodeId"/> 0 to LOOKUP is a negative entry that the kernel
/// caches for <see cref="EntryValid"/>.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
public struct FuseEntryOut
{
    [FieldOffset(0)] public ulong NodeId;
    /// <summary>(NodeId, Generation) must be unique for the life of the filesystem.</summary>
    [FieldOffset(8)] public ulong Generation;
    /// <summary>Seconds the kernel may cache the name → node binding.</summary>
    [FieldOffset(16)] public ulong EntryValid;
    /// <summary>Seconds the kernel may cache <see cref="Attr"/>.</summary>
    [FieldOffset(24)] public ulong AttrValid;
    [FieldOffset(32)] public uint EntryValidNsec;
    [FieldOffset(36)] public uint AttrValidNsec;
    [FieldOffset(40)] public FuseAttr Attr;

    /// <summary>Sets both cache timeouts.</summary>
    public void SetTimeouts(TimeSpan entry, TimeSpan attr)
    {
        FuseTime.Split(entry, out EntryValid, out EntryValidNsec);
        FuseTime.Split(attr, out AttrValid, out AttrValidNsec);
    }
}

/// <summary>struct fuse_attr_out: the reply to GETATTR and SETATTR.</summary>
[StructLayout(LayoutKind.Explicit, Size = 104)]
public struct FuseAttrOut
{
    /// <summary>Seconds the kernel may cache <see cref="Attr"/>.</summary>
    [FieldOffset(0)] public ulong AttrValid;
    [FieldOffset(8)] public uint AttrValidNsec;
    [FieldOffset(12)] public uint Dummy;
    [FieldOffset(16)] public FuseAttr Attr;

    /// <summary>Sets the attribute cache timeout.</summary>
    public void SetTimeout(TimeSpan attr) => FuseTime.Split(attr, out AttrValid, out AttrValidNsec);
}

/// <summary>struct fuse_getattr_in.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct FuseGetAttrIn
{
    [FieldOffset(0)] public uint GetAttrFlags;
    [FieldOffset(4)] public uint Dummy;
    [FieldOffset(8)] public ulong Fh;
}

/// <summary>
/// struct fuse_setattr_in: the fields named in <see cref="Valid"/> are to be changed; the others are
/// garbage. With the writeback cache the kernel owns mtime/ctime and sends them here.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 88)]
public struct FuseSetAttrIn
{
    [FieldOffset(0)] public FuseSetAttrValid Valid;
    [FieldOffset(4)] public uint Padding;
    [FieldOffset(8)] public ulong Fh;
    [FieldOffset(16)] public ulong Size;
    [FieldOffset(24)] public ulong LockOwner;
    [FieldOffset(32)] public ulong Atime;
    [FieldOffset(40)] public ulong Mtime;
    [FieldOffset(48)] public ulong Ctime;
    [FieldOffset(56)] public uint AtimeNsec;
    [FieldOffset(60)] public uint MtimeNsec;
    [FieldOffset(64)] public uint CtimeNsec;
    [FieldOffset(68)] public uint Mode;
    [FieldOffset(72)] public uint Unused4;
    [FieldOffset(76)] public uint Uid;
    [FieldOffset(80)] public uint Gid;
    [FieldOffset(84)] public uint Unused5;

    public readonly bool Has(FuseSetAttrValid field) => (Valid & field) != 0;
}

/// <summary>struct fuse_kstatfs (the body of struct fuse_statfs_out): what statfs(2) shows.</summary>
[StructLayout(LayoutKind.Explicit, Size = 80)]
public struct FuseKstatfs
{
    [FieldOffset(0)] public ulong Blocks;
    [FieldOffset(8)] public ulong Bfree;
    [FieldOffset(16)] public ulong Bavail;
    [FieldOffset(24)] public ulong Files;
    [FieldOffset(32)] public ulong Ffree;
    [FieldOffset(40)] public uint Bsize;
    [FieldOffset(44)] public uint NameLen;
    [FieldOffset(48)] public uint Frsize;
    [FieldOffset(52)] public uint Padding;
    // uint32_t spare[6] up to 80 bytes.
}

/// <summary>Cache timeouts travel as whole seconds plus nanoseconds.</summary>
internal static class FuseTime
{
    public static void Split(TimeSpan value, out ulong seconds, out uint nanoseconds)
    {
        if (value <= TimeSpan.Zero)
        {
            seconds = 0;
            nanoseconds = 0;
            return;
        }
        long ticks = value.Ticks;
        seconds = (ulong)(ticks / TimeSpan.TicksPerSecond);
        nanoseconds = (uint)(ticks % TimeSpan.TicksPerSecond * 100);
    }
}
