using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

/// <summary>struct fuse_forget_in: the kernel drops <see cref="NLookup"/> references to the node in the header.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct FuseForgetIn
{
    [FieldOffset(0)] public ulong NLookup;
}

/// <summary>struct fuse_forget_one: one element of a BATCH_FORGET.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct FuseForgetOne
{
    [FieldOffset(0)] public ulong NodeId;
    [FieldOffset(8)] public ulong NLookup;
}

/// <summary>struct fuse_batch_forget_in, followed by Count × <see cref="FuseForgetOne"/>.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct FuseBatchForgetIn
{
    [FieldOffset(0)] public uint Count;
    [FieldOffset(4)] public uint Dummy;
}

/// <summary>struct fuse_mknod_in, followed by the NUL-terminated name.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct FuseMknodIn
{
    [FieldOffset(0)] public uint Mode;
    [FieldOffset(4)] public uint Rdev;
    [FieldOffset(8)] public uint Umask;
    [FieldOffset(12)] public uint Padding;
}

/// <summary>struct fuse_mkdir_in, followed by the NUL-terminated name.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct FuseMkdirIn
{
    [FieldOffset(0)] public uint Mode;
    [FieldOffset(4)] public uint Umask;
}

/// <summary>struct fuse_rename_in, followed by the old and the new NUL-terminated names.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct FuseRenameIn
{
    [FieldOffset(0)] public ulong NewDir;
}

/// <summary>struct fuse_rename2_in, followed by the old and the new NUL-terminated names.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct FuseRename2In
{
    [FieldOffset(0)] public ulong NewDir;
    /// <summary>RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT (see <see cref="FuseRequestFlags"/>).</summary>
    [FieldOffset(8)] public uint Flags;
    [FieldOffset(12)] public uint Padding;
}

/// <summary>struct fuse_link_in, followed by the new NUL-terminated name; the header names the new parent.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct FuseLinkIn
{
    [FieldOffset(0)] public ulong OldNodeId;
}

/// <summary>struct fuse_access_in.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct FuseAccessIn
{
    /// <summary>R_OK (4), W_OK (2), X_OK (1) or F_OK (0).</summary>
    [FieldOffset(0)] public uint Mask;
    [FieldOffset(4)] public uint Padding;
}

/// <summary>struct fuse_interrupt_in: the kernel asks to abandon the request <see cref="Unique"/>.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct FuseInterruptIn
{
    [FieldOffset(0)] public ulong Unique;
}
