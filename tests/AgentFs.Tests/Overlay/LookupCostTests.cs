using System.Text;

namespace AgentFs.Tests.Overlay;

/// <summary>What a lookup costs the base directory: each lstat of it is an openat2, a statx and a close.</summary>
public class LookupCostTests
{
    [Fact]
    public void LookupOfAnUntouchedBaseFileStatsItOnce()
    {
        using var t = new TempStore();
        t.WriteBase("dir/file.txt", "base bytes");
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        var dir = fs.Inodes.Lookup(InodeNumbers.Root, "dir"u8);
        fs.Inodes.Lookup(dir.Ino, "file.txt"u8); // the first one also asks SQLite, and remembers that no layer knows the file

        const int Lookups = 50;
        long before = store.Base.StatCount;
        for (int i = 0; i < Lookups; i++)
        {
            var a = fs.Inodes.Lookup(dir.Ino, "file.txt"u8);
            Assert.Equal(10, a.Size);
        }
        long stats = store.Base.StatCount - before;
        // Per lookup: one lstat of the directory (its record, which is the base's as it is now) and one of the
        // name, whose record is made from that same stat (it was statted a second time).
        Assert.Equal(2 * Lookups, stats);
        Assert.Equal("base bytes", Encoding.UTF8.GetString(fs.ReadAllBytes("dir/file.txt")));
    }
}
