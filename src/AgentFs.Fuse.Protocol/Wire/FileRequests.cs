using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

/// <summary>struct fuse_open_in (OPEN and OPENDIR).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct FuseOpenIn
{
    /// <summary>open(2) flags (O_ACCMODE, O_TRUNC with atomic_o_trunc, O_APPEND, ...).</summary>
    [FieldOffset(0)] public uint Flags;
    [FieldOffset(4)] public uint OpenFlags;
}

/// <summary>struct fuse_create_in, followed by the NUL-terminated name.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct FuseCreateIn
{
    [FieldOffset(0)] public uint Flags;
    [FieldOffset(4)] public uint Mode;
    [FieldOffset(8)] public uint Umask;
    [FieldOffset(12)] public uint OpenFlags;
}

/// <summary>struct fuse_open_out: the reply to OPEN, OPENDIR and (after the entry) CREATE.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct FuseOpenOut
{
    /// <summary>File handle chosen by the filesystem; the kernel passes it back on every request on this open file.</summary>
    [FieldOffset(0)] public ulong Fh;
    [FieldOffset(8)] public FuseOpenFlags OpenFlags;
    /// <summary>With <see cref="FuseOpenFlags.Passthrough"/>: the id from FUSE_DEV_IOC_BACKING_OPEN (7.40+).</summary>
    [FieldOffset(12)] public int BackingId;
}

/// <summary>struct fuse_release_in (RELEASE and RELEASEDIR).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct FuseReleaseIn
{
    [FieldOffset(0)] public ulong Fh;
    [FieldOffset(8)] public uint Flags;
    [FieldOffset(12)] public uint ReleaseFlags;
    [FieldOffset(16)] public ulong LockOwner;
}

/// <summary>struct fuse_flush_in.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct FuseFlushIn
{
    [FieldOffset(0)] public ulong Fh;
    [FieldOffset(8)] public uint Unused;
    [FieldOffset(12)] public uint Padding;
    [FieldOffset(16)] public ulong LockOwner;
}

/// <summary>struct fuse_read_in (READ, READDIR, READDIRPLUS).</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct FuseReadIn
{
    [FieldOffset(0)] public ulong Fh;
    [FieldOffset(8)] public ulong Offset;
    [FieldOffset(16)] public uint Size;
    [FieldOffset(20)] public uint ReadFlags;
    [FieldOffset(24)] public ulong LockOwner;
    [FieldOffset(32)] public uint Flags;
    [FieldOffset(36)] public uint Padding;
}

/// <summary>struct fuse_write_in, followed by <see cref="Size"/> bytes of data.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct FuseWriteIn
{
    [FieldOffset(0)] public ulong Fh;
    [FieldOffset(8)] public ulong Offset;
    [FieldOffset(16)] public uint Size;
    [FieldOffset(20)] public uint WriteFlags;
    [FieldOffset(24)] public ulong LockOwner;
    [FieldOffset(32)] public uint Flags;
    [FieldOffset(36)] public uint Padding;
}

/// <summary>struct fuse_write_out: the reply to WRITE and COPY_FILE_RANGE.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct FuseWriteOut
{
    [FieldOffset(0)] public uint Size;
    [FieldOffset(4)] public uint Padding;
}

/// <summary>struct fuse_fsync_in (FSYNC and FSYNCDIR).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct FuseFsyncIn
{
    [FieldOffset(0)] public ulong Fh;
    [FieldOffset(8)] public uint FsyncFlags;
    [FieldOffset(12)] public uint Padding;
}

/// <summary>struct fuse_fallocate_in.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct FuseFallocateIn
{
    [FieldOffset(0)] public ulong Fh;
    [FieldOffset(8)] public ulong Offset;
    [FieldOffset(16)] public ulong Length;
    [FieldOffset(24)] public uint Mode;
    [FieldOffset(28)] public uint Padding;
}

/// <summary>struct fuse_lseek_in (SEEK_DATA / SEEK_HOLE; plain seeks never reach the filesystem).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct FuseLseekIn
{
    [FieldOffset(0)] public ulong Fh;
    [FieldOffset(8)] public ulong Offset;
    [FieldOffset(16)] public uint Whence;
    [FieldOffset(20)] public uint Padding;
}

/// <summary>struct fuse_lseek_out.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct FuseLseekOut
{
    [FieldOffset(0)] public ulong Offset;
}

/// <summary>struct fuse_copy_file_range_in; the header names the input node.</summary>
[StructLayout(LayoutKind.Explicit, Size = 56)]
public struct FuseCopyFileRangeIn
{
    [FieldOffset(0)] public ulong FhIn;
    [FieldOffset(8)] public ulong OffIn;
    [FieldOffset(16)] public ulong NodeIdOut;
    [FieldOffset(24)] public ulong FhOut;
    [FieldOffset(32)] public ulong OffOut;
    [FieldOffset(40)] public ulong Len;
    [FieldOffset(48)] public ulong Flags;
}

/// <summary>struct fuse_copy_file_range_out: the reply to COPY_FILE_RANGE_64 (7.45+).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct FuseCopyFileRangeOut
{
    [FieldOffset(0)] public ulong BytesCopied;
}
