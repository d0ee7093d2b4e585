using AgentFs.Fuse.Protocol;

namespace AgentFs.Fuse.Tests;

/// <summary>The FUSE adapter called as the kernel would call it (a FuseContext by hand), without a mount.</summary>
public sealed class AdapterTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("agentfs-adapter-").FullName;
    private readonly AgentStore _store;
    private readonly AgentFileSystem _fs;

    public AdapterTests()
    {
        string baseDir = Path.Combine(_root, "base");
        Directory.CreateDirectory(baseDir);
        File.WriteAllText(Path.Combine(baseDir, "base.txt"), "from the base");
        _store = AgentStore.Create(Path.Combine(_root, "store.agentfs"), baseDir);
        _fs = _store.OpenFileSystem("main");
    }

    public void Dispose()
    {
        _fs.Dispose();
        _store.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [System.Runtime.InteropServices.DllImport("libc")] private static extern uint geteuid();
    [System.Runtime.InteropServices.DllImport("libc")] private static extern uint getegid();

    private static FuseContext Context(uint uid = 0, uint gid = 0, uint pid = 1) => new(unique: 1, nodeId: 1, uid, gid, pid);

    [Fact]
    public void The_kernels_lookup_count_is_kept_by_the_adapter_and_the_library_forgets_at_zero()
    {
        var adapter = new AgentFuseFileSystem(_fs);
        var entry = default(FuseEntryOut);
        Assert.Equal(0, adapter.Lookup(Context(), InodeNumbers.Root, "base.txt"u8, ref entry));
        ulong ino = entry.NodeId;
        Assert.NotEqual(0UL, ino);
        Assert.Equal(0, adapter.Lookup(Context(), InodeNumbers.Root, "base.txt"u8, ref entry));

        adapter.Forget(ino, 1);
        var attr = default(FuseAttrOut);
        Assert.Equal(0, adapter.GetAttr(Context(), ino, null, ref attr)); // one reference left: still known
        Assert.Equal(13UL, attr.Attr.Size);

        adapter.Forget(ino, 1);
        // No reference left: the view no longer knows where the untouched base file lives, so the number alone
        // finds nothing (the kernel never asks after FORGET; a lookup by name finds it again).
        Assert.Equal(Errno.ESTALE, adapter.GetAttr(Context(), ino, null, ref attr));
        Assert.Equal(0, adapter.Lookup(Context(), InodeNumbers.Root, "base.txt"u8, ref entry));
        Assert.Equal(0, adapter.GetAttr(Context(), ino, null, ref attr));
    }

    [Fact]
    public void Names_past_the_limit_are_handed_out_without_an_entry_timeout()
    {
        var adapter = new AgentFuseFileSystem(_fs, TimeSpan.FromHours(1)) { MaxCachedNames = 3 };
        var entry = default(FuseEntryOut);
        foreach (var name in new[] { "a", "b", "base.txt" })
        {
            Assert.Equal(0, adapter.Lookup(Context(), InodeNumbers.Root, System.Text.Encoding.UTF8.GetBytes(name), ref entry));
            Assert.Equal(3600UL, entry.EntryValid);
        }
        Assert.Equal(0, adapter.Lookup(Context(), InodeNumbers.Root, "a"u8, ref entry)); // remembered already
        Assert.Equal(3600UL, entry.EntryValid);
        entry = default;
        Assert.Equal(0, adapter.Lookup(Context(), InodeNumbers.Root, "d"u8, ref entry)); // a fourth name: not cached
        Assert.Equal(0UL, entry.EntryValid);
        Assert.Equal(0UL, entry.EntryValidNsec);
    }

    [Fact]
    public void The_caller_of_a_request_does_not_carry_over_to_later_calls_on_the_same_thread()
    {
        var adapter = new AgentFuseFileSystem(_fs);
        var entry = default(FuseEntryOut);
        Assert.Equal(0, adapter.Mkdir(Context(uid: 4321, gid: 4322, pid: 4242), InodeNumbers.Root, "by-request"u8, 0x1ED, 0, ref entry));
        Assert.Equal(4321u, entry.Attr.Uid);
        Assert.Equal(4322u, entry.Attr.Gid);

        // The library called directly afterwards, on this thread: made by this process, not by the request's caller.
        var mine = _fs.Inodes.Mkdir(InodeNumbers.Root, "by-library"u8, 0x1ED);
        Assert.Equal(geteuid(), mine.Uid);
        Assert.Equal(getegid(), mine.Gid);
    }
}
