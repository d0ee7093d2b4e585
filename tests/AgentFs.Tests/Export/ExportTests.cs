using System.Formats.Tar;
using System.Globalization;
using System.Text;
using Xunit.Abstractions;
using static AgentFs.Tests.Backup.BackupTestKit;

namespace AgentFs.Tests.Export;

/// <summary>Exports a branch with every kind of object, extracts the tar with GNU tar and compares byte for byte.</summary>
public class ExportTests(ITestOutputHelper output)
{
    private const long OddMtime = 1_700_000_000_123_456_789; // not a multiple of 100 ns

    private static readonly byte[] NonUtf8Name = [(byte)'f', 0xFF, (byte)'o'];

    /// <summary>A base with a hard-linked pair, a fifo, a symlink and an xattr, and a branch that changes and adds
    /// files of every kind over it.</summary>
    private static void Populate(TempStore t)
    {
        t.WriteBase("src/main.c", "int main(void) { return 0; }\n");
        t.WriteBase("doc/readme.md", "# readme\n");
        var big = new byte[200_000];
        new Random(5).NextBytes(big);
        t.WriteBase("big.bin", big);
        t.WriteBase("pair/one", "linked\n");
        Assert.Equal(0, Run("ln", t.BasePath("pair/one"), t.BasePath("pair/two")).Code);
        Assert.Equal(0, Run("mkfifo", t.BasePath("pipe")).Code);
        Assert.Equal(0, Run("setfattr", "-n", "user.origin", "-v", "base", t.BasePath("doc/readme.md")).Code);
        File.CreateSymbolicLink(t.BasePath("link"), "src/main.c");
        File.SetUnixFileMode(t.BasePath("src/main.c"), (UnixFileMode)Convert.ToInt32("755", 8));

        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        fs.WriteAllText("src/main.c", "int main(void) { return 42; }\n");
        fs.Delete("big.bin");
        fs.CreateDirectory("new/deep/er");
        fs.WriteAllText("new/a.txt", "a\n");
        fs.SetMode("new/a.txt", Convert.ToUInt32("640", 8));
        fs.Inodes.SetAttr(fs.GetAttributes("new/a.txt").Ino, new SetAttrRequest(SetAttrFields.Uid | SetAttrFields.Gid, Uid: 1234, Gid: 5678));
        fs.CreateHardLink("new/a-link", "new/a.txt");
        fs.CreateHardLink("new/deep/one-too", "pair/one");
        fs.CreateSymbolicLink("new/dirlink", "../src");
        fs.WriteAllBytes("new/empty", []);
        var data = new byte[300_000];
        new Random(9).NextBytes(data);
        fs.WriteAllBytes("new/deep/er/data.bin", data);
        fs.WriteAllText("new/setuid", "#!/bin/sh\n");
        fs.SetMode("new/setuid", Convert.ToUInt32("4755", 8));
        fs.CreateDirectory("new/sticky");
        fs.SetMode("new/sticky", Convert.ToUInt32("1777", 8));
        fs.WriteAllText("new/spaces and ünïcödé.txt", "u\n");
        fs.SetXattr("new/a.txt", "user.text", "hello"u8);
        fs.SetXattr("new/a.txt", "user.empty", ""u8);
        fs.SetXattr("new/deep/er/data.bin", "user.binary", new byte[] { 0xFF, 0x00, 0x80 });
        fs.MakeNode("new/pipe2", PosixMode.S_IFIFO | Convert.ToUInt32("600", 8));
        if (IsRoot) fs.MakeNode("new/null", PosixMode.S_IFCHR | Convert.ToUInt32("666", 8), (1UL << 8) | 3); // 1:3; only root can extract it
        fs.MakeNode("new/sock", PosixMode.S_IFSOCK | Convert.ToUInt32("755", 8));
        var newDir = fs.Inodes.Lookup(InodeNumbers.Root, "new"u8);
        var odd = fs.Inodes.Create(newDir.Ino, NonUtf8Name, Convert.ToUInt32("644", 8));
        fs.Inodes.Write(odd.Ino, 0, "odd name\n"u8);
        fs.SetTimes("new/a.txt", OddMtime, OddMtime);
        fs.SetTimes("new/deep/er", 1_600_000_000_000_000_000, 1_600_000_000_000_000_000);
        fs.SetTimes("new/dirlink", 1_500_000_000_500_000_000, 1_500_000_000_500_000_000);
    }

    [Fact]
    public void Export_extracted_by_gnu_tar_equals_the_branch_byte_for_byte()
    {
        using var t = new TempStore();
        Populate(t);
        string baseBefore = TreeFingerprint(t.BaseDir);
        string tar = Path.Combine(t.Root, "out.tar");
        using var store = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        var result = store.ExportTar(tar);
        foreach (var w in result.Warnings) output.WriteLine("warning: " + w);
        Assert.Contains(result.Warnings, w => w.Contains("new/sock") && w.Contains("socket"));
        Assert.Contains(result.Warnings, w => w.Contains("new/f\\xFFo") && w.Contains("not UTF-8"));
        Assert.Equal(2, result.Warnings.Count);
        Assert.Equal(3, result.HardLinks); // pair/two, new/deep/one-too (or pair/one), new/a-link
        Assert.Equal(new[] { "out.tar" }, FilesNamedLike(tar));

        string dest = Path.Combine(t.Root, "extracted");
        Directory.CreateDirectory(dest);
        var x = Run("tar", "--xattrs", "--xattrs-include=*", "-xpf", tar, "-C", dest);
        output.WriteLine(x.Err);
        Assert.True(x.Code == 0, x.Err);

        using var fs = store.OpenFileSystem("main", readOnly: true);
        var expected = new SortedDictionary<string, (InodeAttributes A, string Path)>(StringComparer.Ordinal);
        Collect(fs, "", expected);
        var actual = Find(dest);
        Assert.Equal(expected.Keys.Where(k => !k.EndsWith("new/sock")), actual.Keys);

        foreach (var (name, (a, path)) in expected)
        {
            if (name == "new/sock") continue;
            var e = actual[name];
            string where = Path.Combine(dest, name);
            Assert.True(TypeLetter(a.Mode) == e.Type, $"{name}: type {e.Type}, expected {TypeLetter(a.Mode)}");
            Assert.True(Convert.ToString(a.Mode & 0xFFF, 8) == e.Mode, $"{name}: mode {e.Mode}, expected {Convert.ToString(a.Mode & 0xFFF, 8)}");
            if (IsRoot) Assert.True($"{a.Uid}:{a.Gid}" == e.Owner, $"{name}: owner {e.Owner}"); // only root extracts owners
            long expectMtime = a.MtimeNs - ((a.MtimeNs % 100) + 100) % 100; // the tar keeps mtime to 100 ns
            Assert.True(expectMtime == e.MtimeNs, $"{name}: mtime {e.MtimeNs}, expected {expectMtime} (branch {a.MtimeNs})");
            if (a.IsRegular)
            {
                Assert.Equal(ReadIno(fs, a), File.ReadAllBytes(where));
            }
            if (a.IsSymlink) Assert.Equal(Encoding.UTF8.GetString(fs.Inodes.ReadLink(a.Ino)), e.Target);
            if ((a.Mode & PosixMode.S_IFMT) == PosixMode.S_IFCHR) Assert.Equal("1:3", e.Device);
            foreach (var attr in fs.Inodes.ListXattr(a.Ino))
            {
                if (attr == "user.binary") continue; // written as LIBARCHIVE.xattr (base64), which GNU tar does not read
                Assert.True(Xattrs(where).TryGetValue(attr, out var v), $"{name}: xattr {attr} missing");
                Assert.Equal(Convert.ToHexString(fs.Inodes.GetXattr(a.Ino, attr)), v);
            }
        }
        // Hard links: two paths are one inode in the extracted tree exactly when they are one inode in the branch.
        var names = expected.Keys.Where(k => k != "new/sock" && !expected[k].A.IsDirectory).ToList();
        foreach (var n1 in names)
            foreach (var n2 in names)
                Assert.True((expected[n1].A.Ino == expected[n2].A.Ino) == (actual[n1].Ino == actual[n2].Ino), $"{n1} and {n2}: hard-link identity differs");
        Assert.Equal(expected["new/a.txt"].A.Ino, expected["new/a-link"].A.Ino);
        Assert.Equal(expected["pair/one"].A.Ino, expected["new/deep/one-too"].A.Ino);
        Assert.Equal(OddMtime - 89, actual["new/a.txt"].MtimeNs);
        Assert.Equal("odd name\n", File.ReadAllText(Path.Combine(dest, "new", "f\\xFFo")));
        Assert.Equal(baseBefore, TreeFingerprint(t.BaseDir));
    }

    [Fact]
    public void Export_keeps_what_gnu_tar_does_not_read_for_bsdtar_and_writes_exact_atime_and_ctime()
    {
        using var t = new TempStore();
        Populate(t);
        using var store = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        var ms = new MemoryStream();
        store.ExportTar(ms);
        ms.Position = 0;
        using var reader = new TarReader(ms);
        var entries = new Dictionary<string, PaxTarEntry>();
        while (reader.GetNextEntry() is PaxTarEntry e) entries[e.Name] = e;
        Assert.DoesNotContain("", entries.Keys);
        Assert.DoesNotContain(entries.Keys, k => k.StartsWith('/') || k.StartsWith("./"));
        var bin = entries["new/deep/er/data.bin"];
        Assert.Equal(Convert.ToBase64String(new byte[] { 0xFF, 0x00, 0x80 }), bin.ExtendedAttributes["LIBARCHIVE.xattr.user.binary"]);
        // new/a-link sorts before new/a.txt, so it is the first path of the inode and carries the data.
        var a = entries["new/a-link"];
        Assert.Equal(TarEntryType.RegularFile, a.EntryType);
        Assert.Equal("hello", a.ExtendedAttributes["SCHILY.xattr.user.text"]);
        Assert.Equal("", a.ExtendedAttributes["SCHILY.xattr.user.empty"]);
        Assert.Equal("1700000000.123456789", a.ExtendedAttributes["atime"]);
        Assert.Equal(1234, a.Uid);
        Assert.Equal(5678, a.Gid);
        Assert.Equal(TarEntryType.HardLink, entries["new/a.txt"].EntryType);
        Assert.Equal("new/a-link", entries["new/a.txt"].LinkName);
        Assert.Equal(TarEntryType.Directory, entries["new/"].EntryType);
        if (IsRoot)
        {
            Assert.Equal(TarEntryType.CharacterDevice, entries["new/null"].EntryType);
            Assert.Equal((1, 3), (entries["new/null"].DeviceMajor, entries["new/null"].DeviceMinor));
        }
        Assert.Equal(TarEntryType.Fifo, entries["pipe"].EntryType);
        Assert.Equal(TarEntryType.SymbolicLink, entries["link"].EntryType);
        Assert.DoesNotContain("big.bin", entries.Keys);
        Assert.DoesNotContain("new/sock", entries.Keys);
        Assert.Equal("base", entries["doc/readme.md"].ExtendedAttributes["SCHILY.xattr.user.origin"]);
    }

    [Fact]
    public void Export_to_a_file_refuses_an_existing_one_and_a_failed_export_leaves_nothing()
    {
        using var t = new TempStore();
        Populate(t);
        using var store = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        string tar = Path.Combine(t.Root, "out.tar");
        File.WriteAllText(tar, "keep me");
        Assert.Equal(Errno.EEXIST, Assert.Throws<AgentFsException>(() => store.ExportTar(tar)).Errno);
        Assert.Equal("keep me", File.ReadAllText(tar));
        store.ExportTar(tar, overwrite: true);
        Assert.NotEqual("keep me", File.ReadAllText(tar));

        string other = Path.Combine(t.Root, "other.tar");
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => store.ExportTar(other,
            progress: new SyncProgress<ExportProgress>(p => { if (p.Entries == 3) cts.Cancel(); }), cancellationToken: cts.Token));
        Assert.Empty(FilesNamedLike(other));
        Assert.Equal(Errno.ENOENT, Assert.Throws<AgentFsException>(() => store.ExportTar(tar, branch: "ghost", overwrite: true)).Errno);
        using var dir = new UnwritableDirectory(t.Root);
        if (!dir.Usable) return; // no way to make an unwritable directory here (chattr unsupported)
        var e = Assert.Throws<AgentFsException>(() => store.ExportTar(Path.Combine(dir.Path, "x.tar")));
        Assert.Contains(dir.Path, e.Message);
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static byte[] ReadIno(AgentFileSystem fs, InodeAttributes a)
    {
        var data = new byte[a.Size];
        int done = 0, n;
        while (done < data.Length && (n = fs.Inodes.Read(a.Ino, done, data.AsSpan(done))) > 0) done += n;
        return data;
    }

    private static void Collect(AgentFileSystem fs, string prefix, SortedDictionary<string, (InodeAttributes, string)> into)
    {
        foreach (var e in fs.Inodes.ReadDirectory(prefix.Length == 0 ? InodeNumbers.Root : fs.GetAttributes(prefix).Ino))
        {
            string shown = Decode(e.Name);
            string name = prefix.Length == 0 ? shown : prefix + "/" + shown;
            // The path API takes UTF-8; reach the odd name through the inode API instead.
            if (shown.Contains("\\x"))
            {
                into[name] = (fs.Inodes.Lookup(fs.GetAttributes(prefix).Ino, e.Name), name);
                continue;
            }
            var a = fs.GetAttributes(name);
            into[name] = (a, name);
            if (a.IsDirectory) Collect(fs, name, into);
        }
    }

    private static string Decode(byte[] name) =>
        System.Text.Unicode.Utf8.IsValid(name) ? Encoding.UTF8.GetString(name) : string.Concat(name.Select(b => b < 0x80 ? ((char)b).ToString() : $"\\x{b:X2}"));

    private static char TypeLetter(uint mode) => (mode & PosixMode.S_IFMT) switch
    {
        PosixMode.S_IFREG => 'f', PosixMode.S_IFDIR => 'd', PosixMode.S_IFLNK => 'l', PosixMode.S_IFIFO => 'p',
        PosixMode.S_IFCHR => 'c', PosixMode.S_IFBLK => 'b', _ => 's',
    };

    private sealed record Found(char Type, string Mode, string Owner, long MtimeNs, ulong Ino, string Target, string Device);

    /// <summary>What GNU find sees of an extracted tree (lstat), by relative path.</summary>
    private static SortedDictionary<string, Found> Find(string dir)
    {
        var r = Run("find", dir, "-mindepth", "1", "-printf", "%P\\0%y\\0%m\\0%U:%G\\0%T@\\0%i\\0%l\\0");
        Assert.Equal(0, r.Code);
        var parts = r.Out.Split('\0');
        var map = new SortedDictionary<string, Found>(StringComparer.Ordinal);
        for (int i = 0; i + 6 < parts.Length; i += 7)
        {
            string device = "";
            if (parts[i + 1] is "c" or "b")
            {
                var st = Run("stat", "-c", "%t:%T", Path.Combine(dir, parts[i])).Out.Trim().Split(':');
                device = $"{Convert.ToInt32(st[0], 16)}:{Convert.ToInt32(st[1], 16)}";
            }
            map[parts[i]] = new Found(parts[i + 1][0], parts[i + 2], parts[i + 3], ParseTime(parts[i + 4]), ulong.Parse(parts[i + 5]), parts[i + 6], device);
        }
        return map;
    }

    private static long ParseTime(string s)
    {
        var bits = s.Split('.');
        long ns = long.Parse(bits[0], CultureInfo.InvariantCulture) * 1_000_000_000;
        if (bits.Length > 1) ns += long.Parse(bits[1].PadRight(9, '0')[..9], CultureInfo.InvariantCulture);
        return ns;
    }

    private static Dictionary<string, string> Xattrs(string path)
    {
        var r = Run("getfattr", "-h", "-d", "-m", "-", "-e", "hex", "--absolute-names", path);
        var map = new Dictionary<string, string>();
        foreach (var line in r.Out.Split('\n'))
        {
            int eq = line.IndexOf('=');
            if (line.StartsWith('#') || eq < 0) continue;
            string v = line[(eq + 1)..].Trim();
            map[line[..eq]] = v.StartsWith("0x") ? v[2..].ToUpperInvariant() : v == "\"\"" ? "" : v;
        }
        return map;
    }
}
