using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace AgentFs.Cli.Tests;

/// <summary>
/// A store file is untrusted input: rows that agentfs never writes (a bad name in a directory, a chunk out of range,
/// a negative size, a garbage xattr blob, a mode with no file type, a directory inside itself) make every command
/// that meets them say, in one line, that the store is corrupt, where (the path, or the inode and layer), and to
/// restore a backup; none crashes, hangs, fills the disk, misreads silently or writes anything. Each store is made
/// by editing a real store with SQLite, as a damaged disk or an attacker would.
/// </summary>
public class CorruptStoreCommandTests
{
    private const string F = "(SELECT ino FROM dentries WHERE parent=1 AND name=CAST('f' AS BLOB))";
    private const string D = "(SELECT ino FROM dentries WHERE parent=1 AND name=CAST('d' AS BLOB))";

    /// <summary>/f (100,000 bytes: chunks 0 and 1), /d/g and the directory /d/e, all in the store, over the sample base.</summary>
    private static Sandbox SampleStore()
    {
        var sb = new Sandbox();
        sb.Fs("mkdir", "/d").Ok();
        sb.Fs("mkdir", "/d/e").Ok();
        sb.Write("/d/g", "gee\n").Ok();
        sb.Write("/f", new string('x', 100_000)).Ok();
        return sb;
    }

    /// <summary>Runs SQL on the store file (the WAL folded in after), as an editor of the file would.</summary>
    private static void Tamper(string store, string sql)
    {
        using var c = new SqliteConnection($"Data Source={store};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql + "; PRAGMA wal_checkpoint(TRUNCATE);";
        int changed = cmd.ExecuteNonQuery();
        Assert.True(changed > 0, $"the tampering changed no row: {sql}");
    }

    private static string FileHash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>Runs the command in-process, failing the test (instead of hanging it) after 60 s.</summary>
    private static CliResult RunBounded(params string[] args)
    {
        var run = Task.Run(() => Cli.RunWithInput("", args));
        Assert.True(run.Wait(TimeSpan.FromSeconds(60)), $"agentfs {string.Join(' ', args)} did not finish in 60 s");
        return run.Result;
    }

    /// <summary>
    /// Runs each command on the tampered store and expects the one-line corrupt-store error naming the store, the
    /// mention (a path) and agentfs restore; then checks nothing was written: the store, the base and the apply
    /// target are unchanged and no export was left behind.
    /// </summary>
    private static void ExpectCorrupt(Sandbox sb, string sql, string mention, params string[][] commands)
    {
        Tamper(sb.StorePath, sql);
        string before = FileHash(sb.StorePath);
        string target = sb.PathIn("target");
        CopyTree(sb.BaseDir, target);
        string targetBefore = TargetHash(target);
        foreach (var args in commands)
        {
            var full = args[0] switch
            {
                "fs" => ["fs", sb.StorePath, .. args[1..]],
                "export" => ["export", sb.StorePath, sb.PathIn("out.tar")],
                "apply" => ["apply", sb.StorePath, target],
                _ => (string[])[args[0], sb.StorePath, .. args[1..]],
            };
            var r = RunBounded(full);
            if (args is ["diff"] or ["patch"]) StreamedError(r, sb.StorePath, "is corrupt", mention, "agentfs restore");
            else r.UserError(sb.StorePath, "is corrupt", mention, "agentfs restore");
        }
        Assert.False(File.Exists(sb.PathIn("out.tar")));
        Assert.False(File.Exists(sb.PathIn("out.tar.tmp")));
        Assert.Equal(targetBefore, TargetHash(target));
        Assert.Equal(before, FileHash(sb.StorePath));
        sb.AssertBaseUnchanged();
    }

    /// <summary>
    /// The error of a command that streams its output as it goes (diff and patch print each file's header before they read the
    /// file, as git diff does): what it printed before meeting the damage may be on stdout; then exit 1 and one line.
    /// </summary>
    private static void StreamedError(CliResult r, params string[] mentions)
    {
        Assert.True(r.ExitCode == 1, $"expected exit 1\n{r}");
        Assert.True(r.StderrLines.Length == 1, $"expected one line on stderr\n{r}");
        Assert.StartsWith("agentfs: ", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
        foreach (var m in mentions) Assert.Contains(m, r.Stderr);
    }

    /// <summary>Everything below the apply target (paths, types, modes, content, mtimes). The target directory's own
    /// mtime is left out: apply stages new content in a directory inside it, removed again when the apply fails.</summary>
    private static string TargetHash(string target)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var entry in Directory.EnumerateFileSystemEntries(target).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(entry);
            sb.Append(Path.GetFileName(entry)).Append(' ').Append(File.GetUnixFileMode(entry)).Append(' ');
            if (info.LinkTarget != null) sb.Append("-> ").Append(info.LinkTarget);
            else if (Directory.Exists(entry)) sb.Append(Sandbox.TreeHash(entry));
            else sb.Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(entry)))).Append(' ').Append(info.LastWriteTimeUtc.Ticks);
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static void CopyTree(string from, string to)
    {
        using var p = Process.Start(new ProcessStartInfo("cp", ["-a", from, to]) { RedirectStandardError = true })!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
    }

    private static readonly string[][] Everything =
    [
        ["diff"], ["diff", "--name-status"], ["patch"], ["export"], ["apply"],
    ];

    [Theory]
    [InlineData("X''")]
    [InlineData("CAST('/' AS BLOB)")]
    [InlineData("CAST('a/b' AS BLOB)")]
    [InlineData("CAST('.' AS BLOB)")]
    [InlineData("CAST('..' AS BLOB)")]
    [InlineData("X'610062'")]
    public void A_bad_name_in_a_directory_row_is_corrupt(string name)
    {
        using var sb = SampleStore();
        ExpectCorrupt(sb, $"UPDATE dentries SET name={name} WHERE parent={D} AND name=CAST('g' AS BLOB)", "/d",
            [["fs", "ls", "/d"], ["fs", "ls", "-l", "/d"], ["fs", "ls", "--json", "/d"], .. Everything]);
    }

    [Theory]
    [InlineData("UPDATE chunks SET idx=-1 WHERE ino=" + F + " AND idx=0")]
    [InlineData("UPDATE chunks SET idx=9223372036854775807 WHERE ino=" + F + " AND idx=1")]
    [InlineData("UPDATE chunks SET idx=5 WHERE ino=" + F + " AND idx=1")]
    [InlineData("UPDATE chunks SET data=zeroblob(65537) WHERE ino=" + F + " AND idx=1")]
    public void A_chunk_out_of_range_or_too_long_is_corrupt(string sql)
    {
        using var sb = SampleStore();
        // (diff --name-status reads no file content, so it has no chunk to find wrong.)
        ExpectCorrupt(sb, sql, "/f", [["fs", "cat", "/f"], ["diff"], ["patch"], ["export"], ["apply"]]);
    }

    [Fact]
    public void A_negative_size_is_corrupt()
    {
        using var sb = SampleStore();
        ExpectCorrupt(sb, $"UPDATE inodes SET size=-1 WHERE ino={F}", "/f",
            [["fs", "stat", "/f"], ["fs", "cat", "/f"], ["fs", "ls", "-l", "/"], .. Everything]);
    }

    [Theory]
    [InlineData("X'05000000'")]               // five attributes, none there
    [InlineData("X'01'")]                     // not even a count
    [InlineData("X'0100000001610A000000'")]   // a value of 10 bytes, none there
    [InlineData("X'0100000001610000008061'")] // a negative value length
    [InlineData("X'FFFFFFFF'")]               // a negative count
    [InlineData("X'000000000000'")]           // bytes after the last attribute
    public void A_garbage_xattr_blob_is_corrupt(string blob)
    {
        using var sb = SampleStore();
        ExpectCorrupt(sb, $"UPDATE inodes SET xattrs={blob} WHERE ino={F}", "/f",
            [["fs", "stat", "/f"], ["fs", "cat", "/f"], ["fs", "ls", "-l", "/"], .. Everything]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(0x1A4)]    // permission bits, no type
    [InlineData(0x31A4)]   // type 3: none of the seven
    [InlineData(0xF1A4)]   // type 15
    [InlineData(0x1_81A4)] // a regular file with bits above the mode
    public void A_mode_that_is_none_of_the_seven_file_types_is_corrupt(int mode)
    {
        using var sb = SampleStore();
        ExpectCorrupt(sb, $"UPDATE inodes SET mode={mode} WHERE ino={F}", "/f",
            [["fs", "stat", "/f"], ["fs", "ls", "-l", "/"], ["fs", "ls", "--json", "/"], .. Everything]);
    }

    [Fact]
    public void A_directory_that_contains_itself_is_corrupt()
    {
        using var sb = SampleStore();
        ExpectCorrupt(sb, $"INSERT INTO dentries(parent, name, layer, ino, type) SELECT ino, CAST('loop' AS BLOB), layer, ino, 4 " +
                          $"FROM dentries WHERE parent=1 AND name=CAST('d' AS BLOB)", "/d",
            [["fs", "ls", "/d"], .. Everything]);
    }

    [Fact]
    public void A_directory_inside_its_own_subdirectory_is_corrupt()
    {
        using var sb = SampleStore();
        ExpectCorrupt(sb, $"INSERT INTO dentries(parent, name, layer, ino, type) SELECT e.ino, CAST('up' AS BLOB), e.layer, {D}, 4 " +
                          $"FROM dentries e WHERE e.parent={D} AND e.name=CAST('e' AS BLOB)", "/d",
            Everything);
    }

    [Fact]
    public void The_root_inside_a_directory_is_corrupt()
    {
        using var sb = SampleStore();
        ExpectCorrupt(sb, $"INSERT INTO dentries(parent, name, layer, ino, type) SELECT ino, CAST('root' AS BLOB), layer, 1, 4 " +
                          $"FROM dentries WHERE parent=1 AND name=CAST('d' AS BLOB)", "/d",
            [["fs", "ls", "/d"], .. Everything]);
    }

    /// <summary>
    /// A size far beyond the data is how a sparse file looks, so it is not corrupt: stat shows it and reading it
    /// gives zeros (as on any file system). What would write all of it refuses in one line naming the file and its
    /// size, before writing anything: export (a tar holds files in full), diff, patch and apply (which hold a file's
    /// content in memory).
    /// </summary>
    [Fact]
    public void A_huge_sparse_size_is_refused_where_it_would_be_written_out_in_full()
    {
        using var sb = SampleStore();
        Tamper(sb.StorePath, $"UPDATE inodes SET size=9223372036854775807 WHERE ino={F}");
        string before = FileHash(sb.StorePath);
        Assert.Contains("9223372036854775807", RunBounded("fs", sb.StorePath, "stat", "/f").Ok().Stdout);
        Assert.Contains("A\tf", RunBounded("diff", sb.StorePath, "--name-status").Ok().Stdout);
        RunBounded("export", sb.StorePath, sb.PathIn("out.tar")).UserError("/f", "9223372036854775807");
        Assert.False(File.Exists(sb.PathIn("out.tar")));
        Assert.False(File.Exists(sb.PathIn("out.tar.tmp")));
        StreamedError(RunBounded("diff", sb.StorePath), "f", "9223372036854775807");
        StreamedError(RunBounded("patch", sb.StorePath), "f", "9223372036854775807");
        string target = sb.PathIn("target");
        CopyTree(sb.BaseDir, target);
        string targetBefore = TargetHash(target);
        RunBounded("apply", sb.StorePath, target).UserError("f", "9223372036854775807");
        Assert.Equal(targetBefore, TargetHash(target));
        Assert.Equal(before, FileHash(sb.StorePath));
        sb.AssertBaseUnchanged();
    }
}
