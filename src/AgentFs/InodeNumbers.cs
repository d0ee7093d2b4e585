namespace AgentFs;

/// <summary>
/// How inode numbers are made. They are stable for the life of the store:
/// the root is 1; a base object keeps its own st_ino (below 2^61); an object created in the overlay gets
/// 2^62 + a counter that is never reused; a base object on another device than the base root gets
/// 2^61 + a hash of (dev, ino).
/// </summary>
public static class InodeNumbers
{
    public const ulong Root = 1;
    public const ulong BaseMask = (1UL << 61) - 1;
    public const ulong ForeignDeviceBit = 1UL << 61;
    public const ulong OverlayBit = 1UL << 62;

    public static bool IsOverlay(ulong ino) => (ino & OverlayBit) != 0;
}
