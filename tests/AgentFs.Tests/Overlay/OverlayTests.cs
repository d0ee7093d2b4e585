using System.Text;

namespace AgentFs.Tests;

public class OverlayTests
{
    [Fact]
    public void ReadsBaseAndWritesToOverlayOnly()
    {
        using var t = new TempStore();
        t.WriteBase("a.txt", "hello base");
        t.WriteBase("dir/b.txt", "inner");
        string before = TempStore.TreeHash(t.BaseDir);
        using (var store = t.Create())
        using (var fs = store.OpenFileSystem())
        {
            Assert.Equal("hello base", fs.ReadAllText("a.txt"));
            Assert.Equal("inner", fs.ReadAllText("/dir/b.txt"));
            fs.WriteAllText("a.txt", "changed");
            fs.WriteAllText("dir/new.txt", "new");
            fs.Delete("dir/b.txt");
            Assert.Equal("changed", fs.ReadAllText("a.txt"));
            Assert.False(fs.Exists("dir/b.txt"));
            Assert.Equal(["new.txt"], fs.Enumerate("dir").Select(e => e.NameString));
        }
        Assert.Equal(before, TempStore.TreeHash(t.BaseDir));
        using (var store = AgentStore.Open(t.StorePath))
        using (var fs = store.OpenFileSystem(readOnly: true))
        {
            Assert.Equal("changed", fs.ReadAllText("a.txt"));
            Assert.Equal("new", fs.ReadAllText("dir/new.txt"));
            Assert.False(fs.Exists("dir/b.txt"));
        }
    }

    [Fact]
    public void PartialWriteIntoLargeBaseFileStoresOneChunk()
    {
        using var t = new TempStore();
        var data = new byte[3 * 1024 * 1024 + 123];
        new Random(1).NextBytes(data);
        t.WriteBase("big.bin", data);
        using var store = t.Create();
        using (var fs = store.OpenFileSystem())
        {
            fs.WriteAt("big.bin", 1_000_000, new byte[] { 1, 2, 3, 4 });
            data[1_000_000] = 1; data[1_000_001] = 2; data[1_000_002] = 3; data[1_000_003] = 4;
            Assert.Equal(data, fs.ReadAllBytes("big.bin"));
            fs.Flush();
        }
        long chunks = store.Read(c => (long)Store.StoreDatabase.Scalar(c, "SELECT count(*) FROM chunks")!);
        long bytes = store.Read(c => (long)Store.StoreDatabase.Scalar(c, "SELECT sum(length(data)) FROM chunks")!);
        Assert.Equal(1, chunks);
        Assert.Equal(store.ChunkSize, bytes);
        using var fs2 = store.OpenFileSystem(readOnly: true);
        Assert.Equal(data, fs2.ReadAllBytes("big.bin"));
    }

    [Fact]
    public void TruncateDownThenExtendReadsZeros()
    {
        using var t = new TempStore();
        var data = Enumerable.Range(0, 300_000).Select(i => (byte)(i % 251 + 1)).ToArray();
        t.WriteBase("f", data);
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        fs.Truncate("f", 100_000);
        fs.Checkpoint();
        fs.Truncate("f", 300_000);
        var got = fs.ReadAllBytes("f");
        Assert.Equal(data.AsSpan(0, 100_000).ToArray(), got.AsSpan(0, 100_000).ToArray());
        Assert.True(got.AsSpan(100_000).IndexOfAnyExcept((byte)0) < 0);
        fs.Flush();
        using var ro = store.OpenFileSystem(readOnly: true);
        Assert.Equal(got, ro.ReadAllBytes("f"));
    }

    [Fact]
    public void CheckpointRollbackAndBranch()
    {
        using var t = new TempStore();
        t.WriteBase("x", "base");
        using var store = t.Create();
        long cp;
        using (var fs = store.OpenFileSystem())
        {
            fs.WriteAllText("x", "one");
            cp = fs.Checkpoint("first").Id;
            fs.WriteAllText("x", "two");
            fs.WriteAllText("y", "new");
            Assert.Equal("two", fs.ReadAllText("x"));
            fs.Rollback(cp);
            Assert.Equal("one", fs.ReadAllText("x"));
            Assert.False(fs.Exists("y"));
        }
        store.CreateBranch("alt", cp.ToString());
        using (var alt = store.OpenFileSystem("alt"))
        {
            Assert.Equal("one", alt.ReadAllText("x"));
            alt.WriteAllText("x", "alt");
        }
        using (var main = store.OpenFileSystem("main", readOnly: true))
            Assert.Equal("one", main.ReadAllText("x"));
        using (var alt = store.OpenFileSystem("alt", readOnly: true))
            Assert.Equal("alt", alt.ReadAllText("x"));
        Assert.Equal([cp], store.ListCheckpoints("alt").Select(c => c.Id));
    }

    [Fact]
    public void RenameBaseDirectoryKeepsChildren()
    {
        using var t = new TempStore();
        t.WriteBase("src/a/b.txt", "b");
        t.WriteBase("src/c.txt", "c");
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        fs.Move("src", "dst");
        Assert.False(fs.Exists("src"));
        Assert.Equal("b", fs.ReadAllText("dst/a/b.txt"));
        Assert.Equal(["a", "c.txt"], fs.Enumerate("dst").Select(e => e.NameString));
        fs.Delete("dst", recursive: true);
        Assert.Empty(fs.Enumerate("/"));
        fs.CreateDirectory("src");
        Assert.Empty(fs.Enumerate("src"));
    }

    [Fact]
    public void HardLinksSymlinksXattrsAndOddNames()
    {
        using var t = new TempStore();
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        fs.WriteAllText("a", "data");
        fs.CreateHardLink("b", "a");
        Assert.Equal(2u, fs.GetAttributes("a").Nlink);
        fs.WriteAt("b", 0, "DA"u8);
        Assert.Equal("DAta", fs.ReadAllText("a"));
        fs.CreateSymbolicLink("l", "a");
        Assert.Equal("a", fs.ReadSymbolicLink("l"));
        fs.SetXattr("a", "user.k", "v"u8);
        Assert.Equal("v"u8.ToArray(), fs.GetXattr("b", "user.k"));
        byte[] odd = [0xff, 0xfe, (byte)'\n', (byte)' '];
        fs.Inodes.Create(InodeNumbers.Root, odd, 0x1A4);
        Assert.Contains(fs.Inodes.ReadDirectory(InodeNumbers.Root), e => e.Name.AsSpan().SequenceEqual(odd));
        var ex = Assert.Throws<AgentFsException>(() => fs.Inodes.Create(InodeNumbers.Root, "a/b"u8, 0x1A4));
        Assert.Equal(Errno.EINVAL, ex.Errno);
        fs.Delete("a");
        Assert.Equal("DAta", fs.ReadAllText("b"));
        Assert.Equal(1u, fs.GetAttributes("b").Nlink);
    }

    [Fact]
    public void LargeSparseFileBeyond4GiB()
    {
        using var t = new TempStore();
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        fs.WriteAllText("sparse", "");
        long off = 5L * 1024 * 1024 * 1024;
        fs.WriteAt("sparse", off, "end"u8);
        Assert.Equal(off + 3, fs.GetAttributes("sparse").Size);
        var ino = fs.GetAttributes("sparse").Ino;
        var buf = new byte[8];
        Assert.Equal(8, fs.Inodes.Read(ino, off - 5, buf));
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, (byte)'e', (byte)'n', (byte)'d' }, buf);
    }

    [Fact]
    public void NonThrowingLookupGetAttrAndXattrAgreeWithTheThrowingOnes()
    {
        using var t = new TempStore();
        t.WriteBase("base.txt", "from the base");
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        byte[] Name(string n) => System.Text.Encoding.UTF8.GetBytes(n);

        Assert.False(fs.Inodes.TryLookup(1, Name("missing"), out _));
        Assert.Equal(Errno.ENOENT, Assert.Throws<AgentFsException>(() => fs.Inodes.Lookup(1, Name("missing"))).Errno);
        Assert.True(fs.Inodes.TryLookup(1, Name("base.txt"), out var baseFile));
        Assert.Equal(13, baseFile.Size);
        Assert.Null(fs.Inodes.TryGetXattr(baseFile.Ino, "user.none"));
        Assert.False(fs.Inodes.HasXattr(baseFile.Ino, "user.none"));

        var a = fs.Inodes.Create(1, Name("a"), 0x81A4);
        fs.Inodes.SetXattr(a.Ino, "user.k", "v"u8);
        Assert.Equal("v"u8.ToArray(), fs.Inodes.TryGetXattr(a.Ino, "user.k"));
        Assert.True(fs.Inodes.TryGetAttr(a.Ino, out var attrs) && attrs.Ino == a.Ino);

        // Unlinked and open: still there; unlinked and closed: gone (ESTALE for GetAttr), without an exception here.
        fs.Inodes.Open(a.Ino);
        fs.Inodes.Unlink(1, Name("a"));
        Assert.True(fs.Inodes.TryGetAttr(a.Ino, out attrs));
        Assert.Equal(0u, attrs.Nlink);
        fs.Inodes.Release(a.Ino);
        Assert.False(fs.Inodes.TryGetAttr(a.Ino, out _));
        Assert.Equal(Errno.ESTALE, Assert.Throws<AgentFsException>(() => fs.Inodes.GetAttr(a.Ino)).Errno);
    }

    [Fact]
    public void KillPrivilegesDropsSetIdBitsAndCapabilityOnly()
    {
        using var t = new TempStore();
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        var f = fs.Inodes.Create(1, "f"u8, 0x8000 | 0xDED); // 06755
        fs.Inodes.SetXattr(f.Ino, AgentFileSystem.CapabilityXattr, new byte[] { 1, 2, 3 });
        fs.Inodes.SetXattr(f.Ino, "user.keep", "x"u8);
        Assert.True(fs.Inodes.KillPrivileges(f.Ino, setIds: false)); // a root write: the capability goes, the bits stay
        Assert.Equal(0xDEDu, fs.Inodes.GetAttr(f.Ino).Mode & 0xFFF);
        Assert.False(fs.Inodes.HasXattr(f.Ino, AgentFileSystem.CapabilityXattr));
        Assert.True(fs.Inodes.HasXattr(f.Ino, "user.keep"));
        Assert.True(fs.Inodes.KillPrivileges(f.Ino, setIds: true));
        Assert.Equal(0x1EDu, fs.Inodes.GetAttr(f.Ino).Mode & 0xFFF); // 0755
        Assert.False(fs.Inodes.KillPrivileges(f.Ino, setIds: true)); // nothing left to drop

        var g = fs.Inodes.Create(1, "g"u8, 0x8000 | 0x5E4); // 02744: set-group-id without group execute stays (mandatory locking)
        Assert.False(fs.Inodes.KillPrivileges(g.Ino, setIds: true));
        Assert.Equal(0x5E4u, fs.Inodes.GetAttr(g.Ino).Mode & 0xFFF);
    }

    [Fact]
    public void AnUntouchedBaseFileRemembersItHasNoRecordUntilACommitGivesItOne()
    {
        using var t = new TempStore();
        t.WriteBase("b.txt", "base bytes");
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        var ino = fs.Inodes.Lookup(1, "b.txt"u8).Ino;
        for (int i = 0; i < 3; i++) Assert.Equal(10, fs.Inodes.GetAttr(ino).Size); // answered from the base, remembered
        var before = fs.Checkpoint();
        fs.Inodes.Write(ino, 0, "BASE"u8);
        Assert.Equal("BASE bytes", fs.ReadAllText("b.txt"));
        fs.Flush(durable: false); // the commit gives the inode a record and forgets what was remembered
        Assert.Equal("BASE bytes", fs.ReadAllText("b.txt"));
        fs.Inodes.SetAttr(ino, new SetAttrRequest(SetAttrFields.Size, 0, 0, 0, 4, 0, 0, 0));
        fs.Flush(durable: false);
        Assert.Equal(4, fs.Inodes.GetAttr(ino).Size);
        fs.Rollback(before.Id); // back to untouched: the base again
        Assert.Equal("base bytes", fs.ReadAllText("b.txt"));
        Assert.Equal(10, fs.Inodes.GetAttr(ino).Size);
    }
}
