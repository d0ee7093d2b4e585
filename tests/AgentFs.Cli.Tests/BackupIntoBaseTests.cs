namespace AgentFs.Cli.Tests;

/// <summary>The base is never written, also not by a backup or a restore aimed into it (init and mount were
/// checked by real path already; backup and restore wrote their file there).</summary>
public sealed class BackupIntoBaseTests : IClassFixture<ScriptFixture>
{
    private readonly ScriptFixture _script;

    public BackupIntoBaseTests(ScriptFixture script) => _script = script;

    [Fact]
    public void Backup_and_restore_refuse_a_file_in_the_base_however_it_is_spelled()
    {
        using var sb = new Sandbox();
        File.CreateSymbolicLink(sb.PathIn("lnk"), "base");
        string backup = sb.PathIn("good.bak");
        var made = _script.Run(sb.Root, null, "backup", sb.StorePath, backup);
        Assert.True(made.ExitCode == 0, made.ToString());

        foreach (string inside in (string[])["base/x.bak", "lnk/x.bak"])
        {
            var r = _script.Run(sb.Root, null, "backup", sb.StorePath, inside);
            r.UserError("inside the base directory", sb.BaseDir);
            var s = _script.Run(sb.Root, null, "restore", backup, inside.Replace(".bak", ".agentfs"));
            s.UserError("inside the base directory", sb.BaseDir);
        }
        sb.AssertBaseUnchanged();
    }
}
