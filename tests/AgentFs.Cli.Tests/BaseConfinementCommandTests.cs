using System.Diagnostics;

namespace AgentFs.Cli.Tests;

/// <summary>A store file is untrusted: a base path in it that climbs out of the base is refused as corruption.</summary>
public class BaseConfinementCommandTests
{
    private static void Sqlite(string store, string sql)
    {
        var p = Process.Start(new ProcessStartInfo("sqlite3", [store, sql]) { RedirectStandardError = true })!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
    }

    [Theory]
    [InlineData("../../../../../../etc")]
    [InlineData("/etc")]
    [InlineData("src/../../../../../../etc")]
    [InlineData("src//lib")]
    [InlineData("./src")]
    public void A_base_path_outside_the_base_is_refused_as_a_corrupt_store(string origin)
    {
        using var sb = new Sandbox();
        sb.Fs("chmod", "700", "/src").Ok(); // copies the directory's row up, with its base path
        Sqlite(sb.StorePath, $"UPDATE inodes SET origin = CAST('{origin}' AS BLOB) WHERE origin = CAST('src' AS BLOB)");
        sb.Fs("ls", "/src").UserError(sb.StorePath, "is corrupt", origin, "agentfs restore");
        sb.Fs("cat", "/src/shadow").UserError(sb.StorePath, "is corrupt", origin, "agentfs restore");
        sb.Fs("cat", "/src/main.c").UserError(sb.StorePath, "is corrupt", "agentfs restore");
        sb.AssertBaseUnchanged();
    }
}
