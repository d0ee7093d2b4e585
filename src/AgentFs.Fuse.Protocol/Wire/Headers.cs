using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

// The wire structs mirror include/uapi/linux/fuse.h field for field (little-endian, 64-bit aligned).
// They are blittable and read in place from the request buffer with MemoryMarshal; the replies are
// written in place into the reply buffer. Field names follow the C names in PascalCase.

/// <summary>struct fuse_in_header: starts every request read from /dev/fuse.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct FuseInHeader
{
    /// <summary>Total length of the request, header included.</summary>
    [FieldOffset(0)] public uint Len;
    [FieldOffset(4)] public FuseOpcode Opcode;
    /// <summary>Request id; the reply carries it back.</summary>
    [FieldOffset(8)] public ulong Unique;
    [FieldOffset(16)] public ulong NodeId;
    [FieldOffset(24)] public uint Uid;
    [FieldOffset(28)] public uint Gid;
    [FieldOffset(32)] public uint Pid;
    /// <summary>Length of request extensions in 8-byte units (7.38+; only with negotiated extensions).</summary>
    [FieldOffset(36)] public ushort TotalExtLen;
    [FieldOffset(38)] public ushort Padding;
}

/// <summary>struct fuse_out_header: starts every reply and notification written to /dev/fuse.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct FuseOutHeader
{
    [FieldOffset(0)] public uint Len;
    /// <summary>Zero or a negative errno for replies; the notify code for notifications.</summary>
    [FieldOffset(4)] public int Error;
    [FieldOffset(8)] public ulong Unique;
}
