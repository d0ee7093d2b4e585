namespace AgentFs.EndToEnd.Tests;

/// <summary>What a hostile (or just unusual) agent does inside a real mount: the mount answers as a local
/// filesystem would, and what it acknowledged is what the store holds after an unmount and a remount.</summary>
public class HostileAgentTests
{
    /// <summary>The kernel lets a FUSE file grow to 2^63-1 bytes (its s_maxbytes) and, with the writeback cache,
    /// acknowledges such a write before the daemon sees it; a store that refused sizes past its own smaller limit
    /// dropped the data at writeback while the write had returned success.</summary>
    [Theory]
    [InlineData(1L << 51)]
    [InlineData(1L << 62)]
    [InlineData(long.MaxValue - 3)]
    public void SparseWriteFarPastTheEndIsKeptAsTheMountShowedIt(long offset)
    {
        using var m = new MountedStore();
        byte[] tail = "abc"u8.ToArray();
        using (var h = File.OpenHandle(m.P("sparse"), FileMode.Create, FileAccess.ReadWrite))
        {
            RandomAccess.Write(h, tail, offset);
            Assert.Equal(offset + 3, RandomAccess.GetLength(h));
        }
        m.Unmount();
        AssertIntegrity(m);
        m.Mount();
        Assert.Equal(offset + 3, new FileInfo(m.P("sparse")).Length);
        using (var h = File.OpenHandle(m.P("sparse"), FileMode.Open, FileAccess.Read))
        {
            byte[] got = new byte[8];
            int n = RandomAccess.Read(h, got, offset - 5);
            Assert.Equal(8, n);
            Assert.Equal(new byte[] { 0, 0, 0, 0, 0, (byte)'a', (byte)'b', (byte)'c' }, got);
        }
        // st_blocks is (size + 511) / 512, computed without overflowing into a negative count.
        Assert.True(long.Parse(m.Sh("stat -c %b sparse").Trim()) > 0);
    }

    internal static void AssertIntegrity(MountedStore m) =>
        Assert.Equal("ok", m.Sh($"sqlite3 '{m.StorePath}' 'PRAGMA integrity_check'", cwd: m.Root).Trim());
}
