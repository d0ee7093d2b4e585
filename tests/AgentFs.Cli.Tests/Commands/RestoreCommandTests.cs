using System.Text.Json;

namespace AgentFs.Cli.Tests;

public class RestoreCommandTests
{
    [Fact]
    public void Restore_gives_back_the_state_of_the_backup()
    {
        using var sb = new Sandbox();
        sb.Write("/a.txt", "at backup time\n").Ok();
        sb.Checkpoint("cp");
        string backup = sb.PathIn("b.agentfs");
        Cli.Run("backup", sb.StorePath, backup).Ok();
        string atBackup = sb.StoreSnapshot();
        sb.Write("/a.txt", "later\n").Ok();
        sb.Checkpoint("later");

        string fresh = sb.PathIn("fresh.agentfs");
        var r = Cli.Run("restore", backup, fresh).Ok();
        Assert.Contains($"restored {fresh} from backup {backup}", r.Stdout);
        Assert.Equal(atBackup, Sandbox.Snapshot(fresh));

        BackupCommandTests.ReleaseClosedStores();
        r = Cli.Run("restore", backup, sb.StorePath, "--force").Ok();
        Assert.Contains("replacing the store that was there", r.Stdout);
        Assert.Equal(atBackup, sb.StoreSnapshot());
        Assert.Equal("at backup time\n", sb.Cat("/a.txt"));
        Assert.False(File.Exists(sb.StorePath + ".tmp"));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Restore_refuses_to_replace_without_force_and_changes_nothing()
    {
        using var sb = new Sandbox();
        string backup = sb.PathIn("b.agentfs");
        Cli.Run("backup", sb.StorePath, backup).Ok();
        sb.Write("/kept.txt", "kept\n").Ok();
        string before = sb.StoreSnapshot();
        Cli.Run("restore", backup, sb.StorePath).UserError(sb.StorePath, "already exists", "--force");
        Assert.Equal(before, sb.StoreSnapshot());
        Assert.Equal("kept\n", sb.Cat("/kept.txt"));
    }

    [Fact]
    public void Restore_refuses_a_store_whose_branch_is_open_for_writing()
    {
        using var sb = new Sandbox();
        string backup = sb.PathIn("b.agentfs");
        Cli.Run("backup", sb.StorePath, backup).Ok();
        using (var store = AgentStore.Open(sb.StorePath))
        using (var fs = store.OpenFileSystem("main"))
        {
            fs.WriteAllText("live.txt", "being written");
            fs.Flush();
            Cli.Run("restore", backup, sb.StorePath, "--force").UserError("in use", "branch main", Environment.ProcessId.ToString());
            Assert.Equal("being written", fs.ReadAllText("live.txt"));
        }
        Assert.Equal("being written", sb.Cat("/live.txt"));
    }

    [Fact]
    public void Restore_refuses_what_is_not_a_backup()
    {
        using var sb = new Sandbox();
        string target = sb.PathIn("t.agentfs");
        Cli.Run("restore", Path.Combine(sb.BaseDir, "a.txt"), target).UserError("not an AgentFs store");
        Cli.Run("restore", sb.PathIn("nope"), target).UserError("does not exist");
        Cli.Run("restore", sb.BaseDir, target).UserError("is a directory");
        Assert.Empty(Directory.GetFiles(sb.Root, "t.agentfs*"));
        Cli.Run("restore", sb.StorePath, Path.Combine(sb.BaseDir, "a.txt"), "--force").UserError("not an AgentFs store");
        Assert.Equal("hello\n", File.ReadAllText(Path.Combine(sb.BaseDir, "a.txt")));
        Cli.Run("restore", sb.StorePath).UsageError("restore --help");
    }

    [Fact]
    public void Restore_json_and_a_missing_base_directory()
    {
        using var sb = new Sandbox();
        string backup = sb.PathIn("b.agentfs");
        Cli.Run("backup", sb.StorePath, backup).Ok();
        var doc = JsonDocument.Parse(Cli.Run("restore", backup, sb.PathIn("r.agentfs"), "--json").Ok().Stdout).RootElement;
        Assert.Equal(sb.PathIn("r.agentfs"), doc.GetProperty("store").GetString());
        Assert.Equal(backup, doc.GetProperty("backup").GetString());
        Assert.True(doc.GetProperty("base_exists").GetBoolean());
        Assert.False(doc.GetProperty("replaced").GetBoolean());

        Directory.Move(sb.BaseDir, sb.BaseDir + ".away");
        try
        {
            var r = Cli.Run("restore", backup, sb.PathIn("r2.agentfs"));
            Assert.Equal(0, r.ExitCode);
            Assert.Contains($"the base directory {sb.BaseDir} of the restored store does not exist here", r.Stderr);
            Assert.True(File.Exists(sb.PathIn("r2.agentfs")));
        }
        finally { Directory.Move(sb.BaseDir + ".away", sb.BaseDir); }
    }
}
