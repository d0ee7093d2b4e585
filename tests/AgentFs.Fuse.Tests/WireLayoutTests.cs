using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AgentFs.Fuse.Protocol;

namespace AgentFs.Fuse.Tests;

/// <summary>The wire structs must have the sizes and offsets of include/uapi/linux/fuse.h.</summary>
public class WireLayoutTests
{
    [Fact]
    public void StructSizesMatchFuseH()
    {
        Assert.Equal(40, Unsafe.SizeOf<FuseInHeader>());
        Assert.Equal(16, Unsafe.SizeOf<FuseOutHeader>());
        Assert.Equal(64, Unsafe.SizeOf<FuseInitIn>());
        Assert.Equal(64, Unsafe.SizeOf<FuseInitOut>());
        Assert.Equal(88, Unsafe.SizeOf<FuseAttr>());
        Assert.Equal(128, Unsafe.SizeOf<FuseEntryOut>());
        Assert.Equal(104, Unsafe.SizeOf<FuseAttrOut>());
        Assert.Equal(16, Unsafe.SizeOf<FuseGetAttrIn>());
        Assert.Equal(88, Unsafe.SizeOf<FuseSetAttrIn>());
        Assert.Equal(80, Unsafe.SizeOf<FuseKstatfs>());
        Assert.Equal(8, Unsafe.SizeOf<FuseForgetIn>());
        Assert.Equal(16, Unsafe.SizeOf<FuseForgetOne>());
        Assert.Equal(8, Unsafe.SizeOf<FuseBatchForgetIn>());
        Assert.Equal(16, Unsafe.SizeOf<FuseMknodIn>());
        Assert.Equal(8, Unsafe.SizeOf<FuseMkdirIn>());
        Assert.Equal(8, Unsafe.SizeOf<FuseRenameIn>());
        Assert.Equal(16, Unsafe.SizeOf<FuseRename2In>());
        Assert.Equal(8, Unsafe.SizeOf<FuseLinkIn>());
        Assert.Equal(8, Unsafe.SizeOf<FuseAccessIn>());
        Assert.Equal(8, Unsafe.SizeOf<FuseInterruptIn>());
        Assert.Equal(8, Unsafe.SizeOf<FuseOpenIn>());
        Assert.Equal(16, Unsafe.SizeOf<FuseCreateIn>());
        Assert.Equal(16, Unsafe.SizeOf<FuseOpenOut>());
        Assert.Equal(24, Unsafe.SizeOf<FuseReleaseIn>());
        Assert.Equal(24, Unsafe.SizeOf<FuseFlushIn>());
        Assert.Equal(40, Unsafe.SizeOf<FuseReadIn>());
        Assert.Equal(40, Unsafe.SizeOf<FuseWriteIn>());
        Assert.Equal(8, Unsafe.SizeOf<FuseWriteOut>());
        Assert.Equal(16, Unsafe.SizeOf<FuseFsyncIn>());
        Assert.Equal(32, Unsafe.SizeOf<FuseFallocateIn>());
        Assert.Equal(24, Unsafe.SizeOf<FuseLseekIn>());
        Assert.Equal(8, Unsafe.SizeOf<FuseLseekOut>());
        Assert.Equal(56, Unsafe.SizeOf<FuseCopyFileRangeIn>());
        Assert.Equal(8, Unsafe.SizeOf<FuseSetXattrIn>());
        Assert.Equal(16, Unsafe.SizeOf<FuseSetXattrExtIn>());
        Assert.Equal(8, Unsafe.SizeOf<FuseGetXattrIn>());
        Assert.Equal(8, Unsafe.SizeOf<FuseGetXattrOut>());
        Assert.Equal(24, Unsafe.SizeOf<FuseDirent>());
        Assert.Equal(152, Unsafe.SizeOf<FuseDirentPlus>());
        Assert.Equal(24, Unsafe.SizeOf<FuseNotifyInvalInodeOut>());
        Assert.Equal(16, Unsafe.SizeOf<FuseNotifyInvalEntryOut>());
        Assert.Equal(24, Unsafe.SizeOf<FuseNotifyDeleteOut>());
        Assert.Equal(16, Unsafe.SizeOf<FuseBackingMap>());
    }

    [Fact]
    public void KeyOffsetsMatchFuseH()
    {
        Assert.Equal(60, (int)Marshal.OffsetOf<FuseAttr>(nameof(FuseAttr.Mode)));
        Assert.Equal(84, (int)Marshal.OffsetOf<FuseAttr>(nameof(FuseAttr.Flags)));
        Assert.Equal(40, (int)Marshal.OffsetOf<FuseEntryOut>(nameof(FuseEntryOut.Attr)));
        Assert.Equal(16, (int)Marshal.OffsetOf<FuseAttrOut>(nameof(FuseAttrOut.Attr)));
        Assert.Equal(32, (int)Marshal.OffsetOf<FuseInitOut>(nameof(FuseInitOut.Flags2)));
        Assert.Equal(36, (int)Marshal.OffsetOf<FuseInitOut>(nameof(FuseInitOut.MaxStackDepth)));
        Assert.Equal(12, (int)Marshal.OffsetOf<FuseOpenOut>(nameof(FuseOpenOut.BackingId)));
        Assert.Equal(76, (int)Marshal.OffsetOf<FuseSetAttrIn>(nameof(FuseSetAttrIn.Uid)));
    }

    [Fact]
    public void IoctlNumbersMatchTheKernelMacros()
    {
        Assert.Equal(0x8004E500u, FuseDeviceIoctl.Clone);
        Assert.Equal(0x4010E501u, FuseDeviceIoctl.BackingOpen);
        Assert.Equal(0x4004E502u, FuseDeviceIoctl.BackingClose);
    }

    [Fact]
    public void InitFlagsCombineFlagsAndFlags2OnlyWithInitExt()
    {
        var init = new FuseInitIn { Flags = (uint)FuseInitFlags.AsyncRead, Flags2 = 1u << 5 };
        Assert.Equal(FuseInitFlags.AsyncRead, init.AllFlags);
        init.Flags |= (uint)FuseInitFlags.InitExt;
        Assert.Equal(FuseInitFlags.AsyncRead | FuseInitFlags.InitExt | FuseInitFlags.Passthrough, init.AllFlags);
    }

    [Fact]
    public void TimeoutsSplitIntoSecondsAndNanoseconds()
    {
        var entry = new FuseEntryOut();
        entry.SetTimeouts(TimeSpan.FromMilliseconds(1500), TimeSpan.FromSeconds(60));
        Assert.Equal(1UL, entry.EntryValid);
        Assert.Equal(500_000_000u, entry.EntryValidNsec);
        Assert.Equal(60UL, entry.AttrValid);
        Assert.Equal(0u, entry.AttrValidNsec);
    }

    [Fact]
    public void PassthroughAndWritebackCacheAreNeverRequestedTogether()
    {
        var options = new FuseMountOptions { WritebackCache = true, Passthrough = true };
        Assert.True(options.RequestedFlags.HasFlag(FuseInitFlags.Passthrough));
        Assert.False(options.RequestedFlags.HasFlag(FuseInitFlags.WritebackCache));
        options.Passthrough = false;
        Assert.True(options.RequestedFlags.HasFlag(FuseInitFlags.WritebackCache));
    }
}
