using System.Text;
using AgentFs.Overlay;
using Microsoft.Data.Sqlite;

namespace AgentFs.Tests;

/// <summary>
/// The library on a store file with rows agentfs never writes (edited with SQLite): the inode API, the path API,
/// diff, patch and export throw one AgentFsException (EIO, <see cref="AgentFsException.IsStoreCorrupt"/>) that
/// names the store, where (path, or inode and layer) and agentfs restore; they never serve, skip or loop. And what
/// is legitimate stays readable: chunks of lower layers past a later truncation, huge sparse sizes.
/// </summary>
public class CorruptStoreTests
{
    private const string F = "(SELECT ino FROM dentries WHERE parent=1 AND name=CAST('f' AS BLOB))";
    private const string D = "(SELECT ino FROM dentries WHERE parent=1 AND name=CAST('d' AS BLOB))";

    private static TempStore Sample()
    {
        var t = new TempStore();
        t.WriteBase("base.txt", "base\n");
        using var s = t.Create();
        using var fs = s.OpenFileSystem();
        fs.WriteAllBytes("/f", Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray());
        fs.CreateDirectory("/d");
        fs.WriteAllText("/d/g", "gee\n");
        fs.SetXattr("/f", "user.note", "hello"u8);
        return t;
    }

    private static void Tamper(string store, string sql)
    {
        using var c = new SqliteConnection($"Data Source={store};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql + "; PRAGMA wal_checkpoint(TRUNCATE);";
        Assert.True(cmd.ExecuteNonQuery() > 0, sql);
    }

    private static AgentFsException Corrupt(TempStore t, Action action, params string[] mentions)
    {
        var e = Assert.Throws<AgentFsException>(action);
        Assert.True(e.IsStoreCorrupt, e.Message);
        Assert.Equal(Errno.EIO, e.Errno);
        Assert.Contains($"store {t.StorePath} is corrupt", e.Message);
        Assert.Contains($"agentfs restore BACKUP {t.StorePath}", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        foreach (var m in mentions) Assert.Contains(m, e.Message);
        return e;
    }

    [Theory]
    [InlineData("X''", "an empty name")]
    [InlineData("CAST('a/b' AS BLOB)", "'a/b'")]
    [InlineData("CAST('..' AS BLOB)", "'..'")]
    [InlineData("X'610062'", "'a\\0b'")]
    public void Bad_names_are_refused_by_readdir_the_path_api_diff_and_export(string name, string mention)
    {
        using var t = Sample();
        Tamper(t.StorePath, $"UPDATE dentries SET name={name} WHERE parent={D} AND name=CAST('g' AS BLOB)");
        using var s = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        using var fs = s.OpenFileSystem(readOnly: true);
        ulong d = fs.GetAttributes("/d").Ino;
        Corrupt(t, () => fs.Inodes.ReadDirectory(d), mention, $"directory inode {d}", "layer");
        Corrupt(t, () => fs.Enumerate("/d"), mention, "corrupt at /d:");
        Corrupt(t, () => s.Diff("base", "main"), mention, "/d");
        Corrupt(t, () => s.ExportTar(new MemoryStream()), mention, "/d");
        Assert.Equal("base\n", fs.ReadAllText("/base.txt")); // the rest is served
    }

    [Theory]
    [InlineData("mode=0", "mode 00")]
    [InlineData("mode=40960", "a symbolic link whose target is missing")]
    [InlineData("size=-5", "size -5")]
    [InlineData("uid=4294967296", "owner 4294967296")]
    [InlineData("xattrs=X'0100000001610A000000'", "extended attribute blob of 10 bytes")]
    public void Bad_inode_rows_are_refused_where_they_are_decoded(string set, string mention)
    {
        using var t = Sample();
        Tamper(t.StorePath, $"UPDATE inodes SET {set} WHERE ino={F}");
        using var s = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        using var fs = s.OpenFileSystem(readOnly: true);
        Corrupt(t, () => fs.Inodes.Lookup(InodeNumbers.Root, "f"u8), mention, "inode", "layer");
        Corrupt(t, () => fs.GetAttributes("/f"), mention, "corrupt at /f:");
        Corrupt(t, () => s.Diff("base", "main"), mention, "/f");
        Corrupt(t, () => s.ExportTar(new MemoryStream()), mention, "/f");
    }

    [Theory]
    [InlineData("idx=-1 WHERE idx=0", "index -1")]
    [InlineData("idx=2 WHERE idx=1", "index 2")]
    [InlineData("data=zeroblob(65537) WHERE idx=1", "65537 bytes")]
    public void Bad_chunk_rows_are_refused_by_read(string set, string mention)
    {
        using var t = Sample();
        Tamper(t.StorePath, $"UPDATE chunks SET {set} AND ino={F}");
        using var s = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        using var fs = s.OpenFileSystem(readOnly: true);
        ulong f = fs.GetAttributes("/f").Ino;
        Corrupt(t, () => fs.Inodes.Read(f, 70_000, new byte[100]), mention, $"inode {f}");
        Corrupt(t, () => fs.ReadAllBytes("/f"), mention, "corrupt at /f:");
        Corrupt(t, () => s.WritePatch("base", "main", new MemoryStream()), mention, "/f");
    }

    [Fact]
    public void A_directory_inside_itself_is_refused_not_walked_forever()
    {
        using var t = Sample();
        using (var s = AgentStore.Open(t.StorePath))
        using (var fs = s.OpenFileSystem())
            fs.CreateDirectory("/d/e");
        Tamper(t.StorePath, $"INSERT INTO dentries(parent, name, layer, ino, type) SELECT e.ino, CAST('up' AS BLOB), e.layer, {D}, 4 " +
                            $"FROM dentries e WHERE e.parent={D} AND e.name=CAST('e' AS BLOB)");
        using var store = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        var export = Task.Run(() => Corrupt(t, () => store.ExportTar(new MemoryStream()), "/d/e/up", "/d"));
        var diff = Task.Run(() => Corrupt(t, () => store.Diff("base", "main"), "/d/e/up"));
        Assert.True(Task.WaitAll([export, diff], TimeSpan.FromSeconds(60)), "export or diff did not finish");
    }

    /// <summary>What agentfs itself writes is never taken for corruption: chunks of a lower layer past the size a
    /// later layer truncated the file to, a file grown again after that, xattrs, and a huge sparse size, which reads
    /// as zeros.</summary>
    [Fact]
    public void Legitimate_rows_are_served()
    {
        using var t = new TempStore();
        using var s = t.Create();
        using (var fs = s.OpenFileSystem())
        {
            fs.WriteAllBytes("/big", new byte[300_000]);
            fs.Checkpoint();
            fs.Truncate("/big", 10);
            fs.WriteAt("/big", 200_000, "tail"u8);
            fs.SetXattr("/big", "user.a", [1, 2, 3]);
            fs.SetXattr("/big", "user.\u00e9t\u00e9", []);
            fs.WriteAllText("/sparse", "s");
            fs.Truncate("/sparse", long.MaxValue - 1);
        }
        using var ro = s.OpenFileSystem("main", readOnly: true);
        var data = ro.ReadAllBytes("/big");
        Assert.Equal(200_004, data.Length);
        Assert.True(data.AsSpan(0, 200_000).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal("tail", Encoding.ASCII.GetString(data, 200_000, 4));
        Assert.Equal(new byte[] { 1, 2, 3 }, ro.GetXattr("/big", "user.a"));
        Assert.Equal(2, ro.ListXattr("/big").Count);
        ulong sparse = ro.GetAttributes("/sparse").Ino;
        var buf = new byte[4096];
        Array.Fill(buf, (byte)0xFF);
        Assert.Equal(4096, ro.Inodes.Read(sparse, 1L << 62, buf));
        Assert.True(buf.AsSpan().IndexOfAnyExcept((byte)0) < 0);
        Assert.Contains(s.Diff("base", "main"), c => c.Path == "big");
    }

    [Fact]
    public void Xattr_blobs_round_trip_and_every_truncation_of_one_is_refused()
    {
        var x = new SortedDictionary<string, byte[]>(StringComparer.Ordinal) { ["user.a"] = [1, 2, 3], ["user.b"] = [], ["user.\u00e9"] = new byte[300] };
        byte[] blob = InodeRecord.SerializeXattrs(x)!;
        var back = InodeRecord.DeserializeXattrs(blob)!;
        Assert.Equal(x.Keys, back.Keys);
        foreach (var (k, v) in x) Assert.Equal(v, back[k]);
        for (int n = 0; n < blob.Length; n++) Assert.Null(InodeRecord.DeserializeXattrs(blob.AsSpan(0, n)));
        Assert.Null(InodeRecord.DeserializeXattrs([.. blob, 0]));
    }
}
