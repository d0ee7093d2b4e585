using System.Text.Json;

namespace AgentFs.Cli.Tests;

public class BackupCommandTests
{
    /// <summary>Stores this process wrote through ('fs write' runs in-process) keep their SQLite writer connection
    /// until finalized (AgentFileSystem's commit statements are never disposed; reported). Collect them before
    /// anything that needs the store closed.</summary>
    internal static void ReleaseClosedStores()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    [Fact]
    public void Backup_copies_the_whole_store_and_says_the_base_is_not_in_it()
    {
        using var sb = new Sandbox();
        sb.Write("/a.txt", "changed\n").Ok();
        long cp = sb.Checkpoint("first");
        Cli.Run("branch", sb.StorePath, "b", "--from", cp.ToString()).Ok();
        sb.Write("/only-b", "b\n", "b").Ok();
        string outPath = sb.PathIn("backup.agentfs");
        var r = Cli.Run("backup", sb.StorePath, outPath).Ok();
        Assert.Equal(2, r.StdoutLines.Length);
        Assert.Contains($"backed up store {sb.StorePath} to {outPath}", r.StdoutLines[0]);
        Assert.Contains($"the base directory {sb.BaseDir} is not in the backup", r.StdoutLines[1]);
        Assert.Equal(["backup.agentfs"], Directory.GetFiles(sb.Root, "backup.agentfs*").Select(Path.GetFileName));
        Assert.Equal(Sandbox.Snapshot(sb.StorePath), Sandbox.Snapshot(outPath));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Backup_json_describes_the_copy()
    {
        using var sb = new Sandbox();
        string outPath = sb.PathIn("b.agentfs");
        var doc = JsonDocument.Parse(Cli.Run("backup", sb.StorePath, outPath, "--json").Ok().Stdout).RootElement;
        Assert.Equal(sb.StorePath, doc.GetProperty("store").GetString());
        Assert.Equal(outPath, doc.GetProperty("output").GetString());
        Assert.Equal(sb.BaseDir, doc.GetProperty("base").GetString());
        Assert.False(doc.GetProperty("base_included").GetBoolean());
        Assert.Equal(16384, doc.GetProperty("page_size").GetInt32());
        Assert.Equal(doc.GetProperty("pages").GetInt64() * 16384, doc.GetProperty("bytes").GetInt64());
        Assert.Equal(new FileInfo(outPath).Length, doc.GetProperty("bytes").GetInt64());
        Assert.Equal(0, doc.GetProperty("leases_cleared").GetInt32());
        Assert.Equal(32, doc.GetProperty("store_id").GetString()!.Length);
        Assert.True(doc.GetProperty("seconds").GetDouble() >= 0);
    }

    [Fact]
    public void Backup_works_while_the_branch_is_open_for_writing_elsewhere()
    {
        using var sb = new Sandbox();
        using var store = AgentStore.Open(sb.StorePath, new StoreOptions { CommitInterval = TimeSpan.FromMilliseconds(20) });
        using var fs = store.OpenFileSystem("main");
        fs.WriteAllText("during.txt", "committed before the backup");
        fs.Flush();
        string outPath = sb.PathIn("b.agentfs");
        Cli.Run("backup", sb.StorePath, outPath).Ok();
        fs.WriteAllText("after.txt", "not in the backup");
        using var copy = AgentStore.Open(outPath, new StoreOptions { ReadOnly = true });
        using var view = copy.OpenFileSystem("main");  // writable: the copy carries no lease of the writer
        Assert.Equal("committed before the backup", view.ReadAllText("during.txt"));
        Assert.False(view.Exists("after.txt"));
    }

    [Fact]
    public void Backup_refuses_an_existing_target_an_unwritable_one_and_the_store_itself()
    {
        using var sb = new Sandbox();
        string existing = sb.PathIn("exists.agentfs");
        File.WriteAllText(existing, "precious");
        Cli.Run("backup", sb.StorePath, existing).UserError(existing, "already exists", "--force");
        Cli.Run("backup", sb.StorePath, existing, "--force").UserError(existing, "not an AgentFs store");
        Assert.Equal("precious", File.ReadAllText(existing));

        string missingDir = Path.Combine(sb.Root, "missing", "b.agentfs");
        Cli.Run("backup", sb.StorePath, missingDir).UserError(missingDir, "does not exist");
        Cli.Run("backup", sb.StorePath, sb.StorePath).UserError("is the store itself");
        Cli.Run("backup", sb.StorePath, sb.BaseDir).UserError("is a directory");
        Cli.Run("backup", sb.PathIn("nostore"), sb.PathIn("x.agentfs")).UserError("does not exist");
        Assert.False(File.Exists(sb.PathIn("x.agentfs")));

        string ro = Path.Combine(sb.Root, "ro");
        Directory.CreateDirectory(ro);
        bool root = Environment.UserName == "root", unwritable = true;
        if (root)
        {
            // Root writes anywhere but into an immutable directory (where chattr works).
            using var chattr = System.Diagnostics.Process.Start("chattr", ["+i", ro])!;
            chattr.WaitForExit();
            unwritable = chattr.ExitCode == 0;
        }
        else File.SetUnixFileMode(ro, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            string target = Path.Combine(ro, "b.agentfs");
            if (unwritable)
            {
                Cli.Run("backup", sb.StorePath, target).UserError(target, "choose a writable directory");
                Assert.Empty(Directory.GetFiles(ro));
            }
        }
        finally
        {
            if (root) System.Diagnostics.Process.Start("chattr", ["-i", ro])!.WaitForExit();
            else File.SetUnixFileMode(ro, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Cli.Run("backup", sb.StorePath).UsageError("backup --help");
    }

    [Fact]
    public void Backup_with_force_replaces_an_earlier_backup()
    {
        using var sb = new Sandbox();
        string outPath = sb.PathIn("b.agentfs");
        Cli.Run("backup", sb.StorePath, outPath).Ok();
        sb.Write("/new.txt", "new\n").Ok();
        ReleaseClosedStores();
        Cli.Run("backup", sb.StorePath, outPath, "--force").Ok();
        Assert.Equal(Sandbox.Snapshot(sb.StorePath), Sandbox.Snapshot(outPath));
    }
}
