using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

/// <summary>struct fuse_init_in (7.36+ size; older kernels send only the first 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct FuseInitIn
{
    [FieldOffset(0)] public uint Major;
    [FieldOffset(4)] public uint Minor;
    [FieldOffset(8)] public uint MaxReadahead;
    [FieldOffset(12)] public uint Flags;
    /// <summary>Bits 32..63 of the capability set; valid only when <see cref="FuseInitFlags.InitExt"/> is in Flags.</summary>
    [FieldOffset(16)] public uint Flags2;
    // uint32_t unused[11] up to 64 bytes.

    /// <summary>The offered capabilities as one 64-bit set.</summary>
    public readonly FuseInitFlags AllFlags =>
        (FuseInitFlags)(((Flags & (uint)FuseInitFlags.InitExt) != 0 ? (ulong)Flags2 << 32 : 0) | Flags);

    /// <summary>Size of fuse_init_in before 7.36.</summary>
    public const int CompatSize = 16;
}

/// <summary>struct fuse_init_out.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct FuseInitOut
{
    [FieldOffset(0)] public uint Major;
    [FieldOffset(4)] public uint Minor;
    [FieldOffset(8)] public uint MaxReadahead;
    [FieldOffset(12)] public uint Flags;
    [FieldOffset(16)] public ushort MaxBackground;
    [FieldOffset(18)] public ushort CongestionThreshold;
    [FieldOffset(20)] public uint MaxWrite;
    /// <summary>Timestamp granularity in nanoseconds the filesystem supports.</summary>
    [FieldOffset(24)] public uint TimeGran;
    [FieldOffset(28)] public ushort MaxPages;
    [FieldOffset(30)] public ushort MapAlignment;
    [FieldOffset(32)] public uint Flags2;
    /// <summary>Passthrough: how deep the backing files may be stacked (1 or 2; 7.40+).</summary>
    [FieldOffset(36)] public uint MaxStackDepth;
    /// <summary>Seconds after which the kernel aborts an unanswered request (7.43+, with RequestTimeout).</summary>
    [FieldOffset(40)] public ushort RequestTimeout;
    // uint16_t unused[11] up to 64 bytes.

    /// <summary>Reply size understood by kernels before 7.5.</summary>
    public const int CompatSize = 8;

    /// <summary>Reply size understood by kernels 7.5 to 7.22.</summary>
    public const int Compat22Size = 24;
}
