using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using AgentFs.Fuse;
using Microsoft.Data.Sqlite;

namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// A real FUSE mount of a store with corrupt rows (edited with SQLite): the kernel gets EIO for those entries, the
/// daemon keeps serving everything else, and its log says once per row that the store is corrupt and to restore a
/// backup. Nothing is written to the store or the base.
/// </summary>
public class CorruptStoreMountTests
{
    [Fact]
    public void A_mount_answers_EIO_for_corrupt_entries_logs_them_once_and_keeps_serving()
    {
        string root = Directory.CreateTempSubdirectory("agentfs-corrupt-").FullName;
        string baseDir = Path.Combine(root, "base"), mnt = Path.Combine(root, "mnt"), store = Path.Combine(root, "store.agentfs");
        Directory.CreateDirectory(baseDir);
        Directory.CreateDirectory(mnt);
        File.WriteAllText(Path.Combine(baseDir, "base.txt"), "from the base\n");
        string baseHash = MountedStore.TreeHash(baseDir);
        using (var s = AgentStore.Create(store, baseDir))
        using (var fs = s.OpenFileSystem())
        {
            fs.WriteAllText("/ok", "fine\n");
            fs.WriteAllBytes("/badmode", new byte[10]);
            fs.WriteAllBytes("/badchunk", new byte[100_000]);
            fs.CreateDirectory("/d");
            fs.WriteAllText("/d/g", "gee\n");
            fs.CreateDirectory("/loop");
        }
        Tamper(store,
            "UPDATE inodes SET mode=0 WHERE ino=(SELECT ino FROM dentries WHERE parent=1 AND name=CAST('badmode' AS BLOB));" +
            "UPDATE chunks SET idx=-1 WHERE idx=0 AND ino=(SELECT ino FROM dentries WHERE parent=1 AND name=CAST('badchunk' AS BLOB));" +
            "UPDATE dentries SET name=CAST('a/b' AS BLOB) WHERE name=CAST('g' AS BLOB);" +
            "INSERT INTO dentries(parent, name, layer, ino, type) SELECT ino, CAST('self' AS BLOB), layer, ino, 4 FROM dentries WHERE parent=1 AND name=CAST('loop' AS BLOB)");
        string storeHash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(store)));
        var log = new ConcurrentQueue<string>();
        var mount = AgentMount.Mount(store, mnt, new AgentMountOptions { ReadOnly = true, Log = log.Enqueue });
        try
        {
            Assert.Equal("fine\n", Run($"cat '{mnt}/ok'").Stdout);
            Assert.Contains("Input/output error", Run($"stat '{mnt}/badmode'", expectFailure: true).Stderr);
            Assert.Contains("Input/output error", Run($"cat '{mnt}/badchunk' > /dev/null", expectFailure: true).Stderr);
            Assert.Contains("Input/output error", Run($"ls '{mnt}/d'", expectFailure: true).Stderr);
            Assert.Contains("Input/output error", Run($"ls '{mnt}/loop'", expectFailure: true).Stderr);
            // The root lists every name (readdirplus hands the corrupt one over without attributes); stat of it fails.
            var listing = Run($"ls -1 '{mnt}'").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains("badmode", listing);
            Assert.Contains("ok", listing);
            Assert.Contains("Input/output error", Run($"ls -l '{mnt}'", expectFailure: true).Stderr);
            // Asked again: still EIO, still serving, logged once.
            Assert.Contains("Input/output error", Run($"stat '{mnt}/badmode'", expectFailure: true).Stderr);
            Assert.Equal("from the base\n", Run($"cat '{mnt}/base.txt'").Stdout);
            Assert.Equal("fine\n", Run($"cat '{mnt}/ok'").Stdout);
        }
        finally
        {
            mount.Dispose();
            if (AgentMount.IsMountPoint(mnt)) Process.Start("umount", ["-l", mnt])!.WaitForExit();
        }
        var lines = log.Where(l => l.Contains("is corrupt")).ToList();
        Assert.All(lines, l => Assert.Contains(store, l));
        Assert.All(lines, l => Assert.Contains("agentfs restore", l));
        Assert.Equal(lines.Count, lines.Distinct().Count());
        Assert.Single(lines, l => l.Contains("mode 0"));
        Assert.Single(lines, l => l.Contains("chunk at index -1"));
        Assert.Single(lines, l => l.Contains("'a/b'"));
        Assert.Single(lines, l => l.Contains("that directory itself"));
        Assert.Equal(storeHash, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(store))));
        Assert.Equal(baseHash, MountedStore.TreeHash(baseDir));
        Directory.Delete(root, true);
    }

    private static void Tamper(string store, string sql)
    {
        using var c = new SqliteConnection($"Data Source={store};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql + "; PRAGMA wal_checkpoint(TRUNCATE);";
        cmd.ExecuteNonQuery();
    }

    private static (string Stdout, string Stderr) Run(string script, bool expectFailure = false)
    {
        using var p = Process.Start(new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), $"timed out: {script}");
        Assert.True(expectFailure ? p.ExitCode != 0 : p.ExitCode == 0, $"'{script}' exited {p.ExitCode}\nstdout: {output}\nstderr: {err.Result}");
        return (output, err.Result);
    }
}
