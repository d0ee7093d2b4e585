using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

/// <summary>struct fuse_backing_map: the argument of ioctl FUSE_DEV_IOC_BACKING_OPEN.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct FuseBackingMap
{
    [FieldOffset(0)] public int Fd;
    [FieldOffset(4)] public uint Flags;
    [FieldOffset(8)] public ulong Padding;
}

/// <summary>The ioctl numbers of /dev/fuse (FUSE_DEV_IOC_*).</summary>
public static class FuseDeviceIoctl
{
    private const uint Magic = 229;

    // _IOR(229, 0, uint32_t): dir read (2) << 30 | size << 16 | magic << 8 | nr.
    public const uint Clone = (2u << 30) | (4u << 16) | (Magic << 8) | 0;

    // _IOW(229, 1, struct fuse_backing_map)
    public const uint BackingOpen = (1u << 30) | (16u << 16) | (Magic << 8) | 1;

    // _IOW(229, 2, uint32_t)
    public const uint BackingClose = (1u << 30) | (4u << 16) | (Magic << 8) | 2;
}
