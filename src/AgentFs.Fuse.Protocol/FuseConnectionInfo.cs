namespace AgentFs.Fuse.Protocol;

/// <summary>What the kernel offered at INIT and what was agreed.</summary>
public sealed class FuseConnectionInfo
{
    /// <summary>The protocol version the kernel speaks (7.x).</summary>
    public uint KernelMajor { get; init; }

    /// <summary>The kernel's minor protocol version.</summary>
    public uint KernelMinor { get; init; }

    /// <summary>The minor version in use: the smaller of the kernel's and ours.</summary>
    public uint ProtocolMinor { get; init; }

    /// <summary>Capabilities the kernel offered.</summary>
    public FuseInitFlags KernelFlags { get; init; }

    /// <summary>Capabilities the mount options asked for.</summary>
    public FuseInitFlags RequestedFlags { get; init; }

    /// <summary>Capabilities in effect: asked for and offered.</summary>
    public FuseInitFlags GrantedFlags { get; init; }

    /// <summary>Largest WRITE payload the kernel will send.</summary>
    public uint MaxWrite { get; init; }

    /// <summary>Largest readahead the kernel will do, in bytes (as agreed at INIT).</summary>
    public uint MaxReadahead { get; init; }

    /// <summary>Most pages in one request (max_pages): the size of the largest READ or WRITE, in pages.</summary>
    public ushort MaxPages { get; init; }

    /// <summary>Most background requests (readahead, writeback) the kernel keeps outstanding.</summary>
    public ushort MaxBackground { get; init; }

    /// <summary>Outstanding background requests at which the kernel considers the connection congested.</summary>
    public ushort CongestionThreshold { get; init; }

    /// <summary>Timestamp granularity in nanoseconds.</summary>
    public uint TimeGranularity { get; init; }

    /// <summary>Passthrough was granted: <see cref="FuseSession.OpenBacking(int, out int)"/> may be used.</summary>
    public bool Passthrough => Has(FuseInitFlags.Passthrough);

    /// <summary>The writeback cache is on: the kernel owns size and mtime of files being written.</summary>
    public bool WritebackCache => Has(FuseInitFlags.WritebackCache);

    /// <summary>Whether the capability is in effect (granted: asked for and offered).</summary>
    public bool Has(FuseInitFlags flag) => (GrantedFlags & flag) == flag;

    /// <summary>The agreed protocol version and limits, one line for a log.</summary>
    public override string ToString() =>
        $"protocol 7.{ProtocolMinor} (kernel {KernelMajor}.{KernelMinor}), max_write {MaxWrite}, max_pages {MaxPages}, " +
        $"max_readahead {MaxReadahead}, max_background {MaxBackground}, time_gran {TimeGranularity}ns\n" +
        $"  offered:   {KernelFlags}\n  requested: {RequestedFlags}\n  granted:   {GrantedFlags}";
}
