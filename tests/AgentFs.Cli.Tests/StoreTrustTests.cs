using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace AgentFs.Cli.Tests;

/// <summary>
/// A store file is untrusted input and holds private files: its files are created 0600; SQL someone added to it
/// (triggers, views) never runs; a layer cycle is refused instead of followed; a store that may only be read
/// can be read. Hostile stores are made by editing the SQLite file directly.
/// </summary>
public class StoreTrustTests : IClassFixture<ScriptFixture>
{
    private readonly ScriptFixture _script;

    public StoreTrustTests(ScriptFixture script) => _script = script;

    private static Sandbox SampleStore()
    {
        var sb = new Sandbox();
        sb.Write("/f", new string('x', 100_000)).Ok();
        sb.Checkpoint("one");
        sb.Write("/two", "two\n").Ok();
        return sb;
    }

    /// <summary>Runs SQL on the store file as an attacker with the sqlite3 library would (the WAL folded in after).</summary>
    private static void Tamper(string store, string sql)
    {
        using var c = new SqliteConnection($"Data Source={store};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA foreign_keys=OFF; " + sql + "; PRAGMA wal_checkpoint(TRUNCATE);";
        cmd.ExecuteNonQuery();
    }

    private static string FileHash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>Runs the command in-process, failing the test (instead of hanging it) after 60 s.</summary>
    private static CliResult RunBounded(params string[] args)
    {
        var run = Task.Run(() => Cli.RunWithInput("data", args));
        Assert.True(run.Wait(TimeSpan.FromSeconds(60)), $"agentfs {string.Join(' ', args)} did not finish in 60 s");
        return run.Result;
    }

    private static string Mode(string path) => Convert.ToString((int)File.GetUnixFileMode(path), 8);

    [Fact]
    public void Store_wal_shm_backup_and_export_are_created_0600()
    {
        using var sb = new Sandbox(init: false);
        var oldMask = Umask(0); // even with a permissive umask
        try
        {
            Cli.Run("init", sb.StorePath, "--base", sb.BaseDir).Ok();
            Assert.Equal("600", Mode(sb.StorePath));
            using (var store = AgentStore.Open(sb.StorePath))
            using (var fs = store.OpenFileSystem())
            {
                fs.WriteAllBytes("/secret", "private"u8.ToArray());
                fs.Flush(durable: true);
                Assert.Equal("600", Mode(sb.StorePath + "-wal"));
                Assert.Equal("600", Mode(sb.StorePath + "-shm"));
            }
            Cli.Run("backup", sb.StorePath, sb.PathIn("b")).ExitCode.Equals(0);
            Assert.Equal("600", Mode(sb.PathIn("b")));
            Assert.Equal(0, Cli.Run("export", sb.StorePath, sb.PathIn("e.tar")).ExitCode);
            Assert.Equal("600", Mode(sb.PathIn("e.tar")));
            Assert.Equal(0, Cli.Run("restore", sb.PathIn("b"), sb.PathIn("r")).ExitCode);
            Assert.Equal("600", Mode(sb.PathIn("r")));
        }
        finally { _ = Umask(oldMask); }
        // A store the user made readable on purpose is left as it is.
        File.SetUnixFileMode(sb.StorePath, (UnixFileMode)Convert.ToInt32("644", 8));
        sb.Write("/more", "x").Ok();
        Assert.Equal("644", Mode(sb.StorePath));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "umask")]
    private static extern uint Umask(uint mask);

    public static TheoryData<string> HostileSql => new()
    {
        "CREATE TRIGGER evil AFTER INSERT ON checkpoints BEGIN DELETE FROM chunks; END",
        "CREATE TRIGGER evil AFTER DELETE ON leases BEGIN DELETE FROM chunks; END",
        "CREATE TRIGGER evil AFTER INSERT ON leases BEGIN DELETE FROM chunks; END",
        "CREATE VIEW evil AS SELECT * FROM chunks",
        "CREATE TABLE evil(x)",
        "CREATE INDEX evil ON chunks(data)",
    };

    [Theory]
    [MemberData(nameof(HostileSql))]
    public void SQL_added_to_a_store_is_refused_and_never_runs(string sql)
    {
        using var sb = SampleStore();
        Tamper(sb.StorePath, sql);
        string before = FileHash(sb.StorePath);
        foreach (var args in new[]
        {
            new[] { "checkpoint", sb.StorePath, "-m", "x" },
            ["fs", sb.StorePath, "write", "/w"],
            ["fs", sb.StorePath, "ls", "/"],
            ["branches", sb.StorePath],
            ["backup", sb.StorePath, sb.PathIn("b")],
        })
            RunBounded(args).UserError(sb.StorePath, "not a valid AgentFs store", "evil", "restore");
        // restore reads the backup and refuses it before writing anything
        RunBounded("restore", sb.StorePath, sb.PathIn("r")).UserError(sb.StorePath, "not a valid AgentFs store", "evil");
        Assert.False(File.Exists(sb.PathIn("r")));
        Assert.False(File.Exists(sb.PathIn("r.tmp")));
        Assert.False(File.Exists(sb.PathIn("b")));
        Assert.Equal(before, FileHash(sb.StorePath));
        // The data is all there (the trigger never ran).
        using (var c = new SqliteConnection($"Data Source={sb.StorePath};Mode=ReadOnly;Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM chunks";
            Assert.True((long)cmd.ExecuteScalar()! >= 3);
        }
        sb.AssertBaseUnchanged();
    }

    public static TheoryData<string, string> BrokenGraphs => new()
    {
        { "UPDATE layers SET parent=2 WHERE id=1", "layer 1 has parent 2" },
        { "UPDATE layers SET parent=id WHERE id=(SELECT max(id) FROM layers)", "which is not below it" },
        { "UPDATE layers SET parent=99 WHERE id=2", "layer 2 has parent 99" },
        { "UPDATE branches SET top_layer=77", "top layer 77" },
        { "UPDATE branches SET top_layer=1", "sealed" },
    };

    [Theory]
    [MemberData(nameof(BrokenGraphs))]
    public void A_broken_layer_graph_is_refused_not_followed(string sql, string mention)
    {
        using var sb = SampleStore();
        Tamper(sb.StorePath, sql);
        string before = FileHash(sb.StorePath);
        foreach (var args in new[]
        {
            new[] { "fs", sb.StorePath, "ls", "/" },
            ["log", sb.StorePath],
            ["diff", sb.StorePath],
            ["export", sb.StorePath, sb.PathIn("e.tar")],
            ["checkpoint", sb.StorePath],
        })
            RunBounded(args).UserError(sb.StorePath, "not a valid AgentFs store", mention);
        RunBounded("restore", sb.StorePath, sb.PathIn("r")).UserError(sb.StorePath, "not a valid AgentFs store", mention);
        Assert.False(File.Exists(sb.PathIn("r")));
        Assert.False(File.Exists(sb.PathIn("e.tar")));
        Assert.Equal(before, FileHash(sb.StorePath));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void A_store_another_user_may_only_read_can_be_read()
    {
        using var sb = SampleStore();
        Assert.Equal(0, Cli.Run("backup", sb.StorePath, sb.PathIn("bk")).ExitCode);
        File.Delete(sb.StorePath + "-wal");
        File.Delete(sb.StorePath + "-shm");
        foreach (var f in new[] { sb.StorePath, sb.PathIn("bk") }) File.SetUnixFileMode(f, (UnixFileMode)Convert.ToInt32("444", 8));
        File.SetUnixFileMode(sb.Root, (UnixFileMode)Convert.ToInt32("755", 8));
        string outDir = sb.PathIn("out");
        Directory.CreateDirectory(outDir);
        File.SetUnixFileMode(outDir, (UnixFileMode)Convert.ToInt32("777", 8));
        string before = FileHash(sb.StorePath);

        Assert.Contains("main", Nobody("branches", sb.StorePath).Ok().Stdout);
        Assert.Contains("two", Nobody("fs", sb.StorePath, "ls", "/").Ok().Stdout);
        Assert.Equal("two\n", Nobody("fs", sb.StorePath, "cat", "/two").Ok().Stdout);
        Assert.Contains("one", Nobody("log", sb.StorePath).Ok().Stdout);
        Assert.Contains("two", Nobody("diff", sb.StorePath, "--name-status").Ok().Stdout);
        Assert.Equal(0, Nobody("export", sb.StorePath, Path.Combine(outDir, "e.tar")).ExitCode);
        Assert.Equal(0, Nobody("backup", sb.StorePath, Path.Combine(outDir, "b")).ExitCode);
        Assert.Equal(0, Nobody("restore", sb.PathIn("bk"), Path.Combine(outDir, "r")).ExitCode);
        Assert.Equal(sb.StoreSnapshot(), Sandbox.Snapshot(Path.Combine(outDir, "r")));
        Nobody("fs", sb.StorePath, "write", "/x").UserError(sb.StorePath);
        Assert.Equal(before, FileHash(sb.StorePath));
    }

    [Fact]
    public void A_store_on_a_read_only_mount_can_be_read()
    {
        using var sb = SampleStore();
        File.Delete(sb.StorePath + "-wal");
        File.Delete(sb.StorePath + "-shm");
        string ro = Directory.CreateTempSubdirectory("agentfs-ro-").FullName;
        Sh($"mount --bind '{sb.Root}' '{ro}' && mount -o remount,bind,ro '{ro}'");
        try
        {
            string store = Path.Combine(ro, Path.GetFileName(sb.StorePath));
            Assert.Contains("main", Cli.Run("branches", store).Ok().Stdout);
            Assert.Contains("two", Cli.Run("fs", store, "ls", "/").Ok().Stdout);
            Assert.Contains("two", Cli.Run("diff", store, "--name-status").Ok().Stdout);
            Assert.Equal(0, Cli.Run("export", store, sb.PathIn("e.tar")).ExitCode);
            Assert.Equal(0, Cli.Run("backup", store, sb.PathIn("b")).ExitCode);
            Assert.Equal(0, Cli.Run("restore", store, sb.PathIn("r")).ExitCode);
            Assert.Equal(sb.StoreSnapshot(), Sandbox.Snapshot(sb.PathIn("r")));
            Cli.RunWithInput("x", "fs", store, "write", "/x").UserError(store);
        }
        finally
        {
            Sh($"umount -l '{ro}'");
            Directory.Delete(ro);
        }
    }

    private CliResult Nobody(params string[] args)
    {
        var psi = new ProcessStartInfo("setpriv")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (var a in (string[])["--reuid=65534", "--regid=65534", "--clear-groups", _script.Script, .. args]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Write("data");
        p.StandardInput.Close();
        var stdout = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        var err = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "agentfs as nobody did not finish");
        copy.Wait();
        return new CliResult(p.ExitCode, stdout.ToArray(), err.Result);
    }

    private static void Sh(string script)
    {
        using var p = Process.Start(new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardError = true })!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{script}: {err}");
    }
}
