using Microsoft.Data.Sqlite;

namespace AgentFs.Cli.Tests;

/// <summary>
/// Every command on a store that is missing, not a store, damaged or too new: exit 1, one line naming
/// the store, the base untouched, and the file not written by a command that only reads.
/// </summary>
public class StoreErrorTests
{
    public static TheoryData<string[]> Commands => new()
    {
        new[] { "fs", "{store}", "ls" },
        new[] { "fs", "{store}", "cat", "/a.txt" },
        new[] { "fs", "{store}", "stat", "/a.txt" },
        new[] { "fs", "{store}", "write", "/new" },
        new[] { "fs", "{store}", "mkdir", "/d" },
        new[] { "checkpoint", "{store}", "-m", "x" },
        new[] { "branch", "{store}", "b", "--from", "main" },
        new[] { "branches", "{store}" },
        new[] { "log", "{store}" },
        new[] { "rollback", "{store}", "1" },
    };

    private static CliResult RunOn(string store, string[] template) =>
        Cli.RunWithInput("data", template.Select(a => a == "{store}" ? store : a).ToArray());

    [Theory]
    [MemberData(nameof(Commands))]
    public void Missing_store(string[] command)
    {
        using var sb = new Sandbox(init: false);
        RunOn(sb.StorePath, command).UserError(sb.StorePath, "does not exist", "agentfs init");
        Assert.False(File.Exists(sb.StorePath));
        sb.AssertBaseUnchanged();
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Store_that_is_a_text_file(string[] command)
    {
        using var sb = new Sandbox(init: false);
        File.WriteAllText(sb.StorePath, "just some notes\n");
        RunOn(sb.StorePath, command).UserError(sb.StorePath, "not an AgentFs store");
        Assert.Equal("just some notes\n", File.ReadAllText(sb.StorePath));
        sb.AssertBaseUnchanged();
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Store_that_is_a_directory(string[] command)
    {
        using var sb = new Sandbox(init: false);
        Directory.CreateDirectory(sb.StorePath);
        RunOn(sb.StorePath, command).UserError(sb.StorePath, "directory");
        sb.AssertBaseUnchanged();
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void SQLite_file_that_is_not_a_store(string[] command)
    {
        using var sb = new Sandbox(init: false);
        using (var c = new SqliteConnection($"Data Source={sb.StorePath};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE notes(text); INSERT INTO notes VALUES('hi');";
            cmd.ExecuteNonQuery();
        }
        byte[] before = File.ReadAllBytes(sb.StorePath);
        RunOn(sb.StorePath, command).UserError(sb.StorePath, "not an AgentFs store");
        Assert.Equal(before, File.ReadAllBytes(sb.StorePath));
        sb.AssertBaseUnchanged();
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Store_with_a_newer_schema(string[] command)
    {
        using var sb = new Sandbox();
        sb.Checkpoint("one");
        string snapshot = sb.StoreSnapshot();
        int own = UserVersion(sb.StorePath);
        SetUserVersion(sb.StorePath, 99);
        RunOn(sb.StorePath, command).UserError(sb.StorePath, "schema version 99", "newer agentfs");
        // Nothing was migrated or written: back at its own version, the store shows the same data.
        SetUserVersion(sb.StorePath, own);
        Assert.Equal(snapshot, sb.StoreSnapshot());
        sb.AssertBaseUnchanged();
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Corrupt_store(string[] command)
    {
        using var sb = new Sandbox();
        sb.Write("/f", new string('x', 100_000)).Ok();
        sb.Checkpoint("one");
        Corrupt(sb.StorePath);
        byte[] damaged = File.ReadAllBytes(sb.StorePath);
        RunOn(sb.StorePath, command).UserError(sb.StorePath, "corrupt", "backup");
        if (command[0] is "fs" && command[2] is "ls" or "cat" or "stat" || command[0] is "branches" or "log")
            Assert.Equal(damaged, File.ReadAllBytes(sb.StorePath));
        sb.AssertBaseUnchanged();
    }

    private static int UserVersion(string path)
    {
        using var c = new SqliteConnection($"Data Source={path};Pooling=False;Mode=ReadOnly");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(cmd.ExecuteScalar());
    }

    private static void SetUserVersion(string path, int version)
    {
        using var c = new SqliteConnection($"Data Source={path};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"PRAGMA user_version={version}";
        cmd.ExecuteNonQuery();
    }

    /// <summary>Moves everything into the main file, then overwrites all pages but the first (the header) with garbage.</summary>
    private static void Corrupt(string path)
    {
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            cmd.ExecuteNonQuery();
        }
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        const int page = 8192;
        Assert.True(f.Length > 4 * page);
        var garbage = new byte[f.Length - page];
        new Random(7).NextBytes(garbage);
        f.Position = page;
        f.Write(garbage);
    }
}
