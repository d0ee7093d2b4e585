using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

// INIT: agree on the protocol version and the capabilities. The kernel offers; we ask for what the mount
// options want; what both name is in effect. Nothing else is sent before INIT is answered.
public sealed partial class FuseSession
{
    /// <summary>Pages per request without FUSE_MAX_PAGES (FUSE_DEFAULT_MAX_PAGES_PER_REQ).</summary>
    private const int DefaultMaxPages = 32;

    internal int HandleInit(ReadOnlySpan<byte> payload, Span<byte> reply)
    {
        if (payload.Length < FuseInitIn.CompatSize)
            return FailInit(LinuxErrno.EPROTO);
        FuseInitIn init = default;
        payload.Slice(0, Math.Min(payload.Length, Unsafe.SizeOf<FuseInitIn>()))
            .CopyTo(MemoryMarshal.AsBytes(new Span<FuseInitIn>(ref init)));

        ref FuseInitOut output = ref MemoryMarshal.AsRef<FuseInitOut>(reply);
        output = default;
        output.Major = ProtocolMajor;
        output.Minor = ProtocolMinor;
        if (init.Major > ProtocolMajor)
            return FuseInitOut.CompatSize; // The kernel retries INIT with our major version.
        if (init.Major < ProtocolMajor)
            return FailInit(LinuxErrno.EPROTO);

        // Before 7.36 the kernel sends only 16 bytes and no flags2.
        FuseInitFlags offered = payload.Length >= 20 ? init.AllFlags : (FuseInitFlags)init.Flags;
        FuseInitFlags requested = _options.RequestedFlags;
        FuseInitFlags granted = requested & offered;

        int maxPages = (granted & FuseInitFlags.MaxPages) != 0 ? _options.MaxPages : Math.Min(_options.MaxPages, DefaultMaxPages);
        output.MaxReadahead = init.MaxReadahead;
        output.Flags = (uint)granted;
        output.Flags2 = (uint)((ulong)granted >> 32);
        output.MaxBackground = _options.MaxBackground;
        output.CongestionThreshold = Math.Min(_options.CongestionThreshold, _options.MaxBackground);
        output.MaxWrite = (uint)(maxPages * 4096);
        output.TimeGran = 1;
        output.MaxPages = (ushort)maxPages;
        if ((granted & FuseInitFlags.Passthrough) != 0)
            output.MaxStackDepth = 1; // backing files live on a plain filesystem; the mount may sit under overlayfs

        var connection = new FuseConnectionInfo
        {
            KernelMajor = init.Major,
            KernelMinor = init.Minor,
            ProtocolMinor = Math.Min(init.Minor, ProtocolMinor),
            KernelFlags = offered,
            RequestedFlags = requested,
            GrantedFlags = granted,
            MaxWrite = output.MaxWrite,
            MaxReadahead = output.MaxReadahead,
            MaxPages = output.MaxPages,
            MaxBackground = output.MaxBackground,
            CongestionThreshold = output.CongestionThreshold,
            TimeGranularity = output.TimeGran,
        };
        _connection = connection;

        int error = _fs.Init(connection);
        if (error != 0)
            return FailInit(Math.Abs(error));

        return init.Minor < 5 ? FuseInitOut.CompatSize
            : init.Minor < 23 ? FuseInitOut.Compat22Size
            : Unsafe.SizeOf<FuseInitOut>();
    }

    private int FailInit(int errno)
    {
        _initError = errno;
        return -errno;
    }
}
