using System.Security.Cryptography;

namespace AgentFs.Cli.Tests;

/// <summary>
/// Where backup, restore, export and patch write: never through a symbolic link (backup --force used to change the
/// store the link points to; backup, restore and export refuse a link, patch replaces the link itself), and never over a store with a tar or a patch (it used to replace the store itself). Run with
/// the real ./agentfs; the other store is compared byte for byte.
/// </summary>
public sealed class OutputTargetTrustTests : IClassFixture<ScriptFixture>
{
    private readonly ScriptFixture _script;

    public OutputTargetTrustTests(ScriptFixture script) => _script = script;

    private static string FileHash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    private CliResult Agentfs(Sandbox sb, params string[] args) => _script.Run(sb.Root, null, args);

    [Fact]
    public void A_symlink_to_another_store_is_refused_and_that_store_is_unchanged()
    {
        using var sb = new Sandbox();
        sb.Write("/new.txt", "only in the first store\n");
        string other = sb.PathIn("other.agentfs");
        Agentfs(sb, "init", other, "--base", sb.BaseDir).Ok();
        string link = sb.PathIn("out.agentfs");
        File.CreateSymbolicLink(link, other);
        string backup = sb.PathIn("backup.agentfs");
        Agentfs(sb, "backup", sb.StorePath, backup).Ok();
        string otherHash = FileHash(other), storeBefore = sb.StoreSnapshot();

        foreach (string[] args in (string[][])[
                     ["backup", sb.StorePath, link, "--force"],
                     ["backup", sb.StorePath, link],
                     ["restore", backup, link, "--force"],
                     ["export", sb.StorePath, link, "--force"],
                 ])
        {
            Agentfs(sb, args).UserError(link, "symbolic link");
            Assert.Equal(otherHash, FileHash(other));
            Assert.Equal(other, new FileInfo(link).LinkTarget); // the link is still a link
            Assert.False(File.Exists(other + "-wal") && new FileInfo(other + "-wal").Length > 0);
        }
        // patch -o replaces a link with the patch file (HostileInputTests) and never writes through it.
        Agentfs(sb, "patch", sb.StorePath, "-o", link).Ok();
        Assert.Equal(otherHash, FileHash(other));
        Assert.Null(new FileInfo(link).LinkTarget);
        Assert.Equal(storeBefore, sb.StoreSnapshot());
        Assert.Empty(Directory.GetFiles(sb.Root, "*.tmp"));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void An_export_or_a_patch_never_replaces_a_store()
    {
        using var sb = new Sandbox();
        sb.Write("/new.txt", "a change to export\n");
        string other = sb.PathIn("other.agentfs");
        Agentfs(sb, "init", other, "--base", sb.BaseDir).Ok();
        string storeHash = FileHash(sb.StorePath), otherHash = FileHash(other);

        foreach (string target in (string[])[sb.StorePath, other])
        {
            Agentfs(sb, "export", sb.StorePath, target, "--force").UserError(target, "is an AgentFs store");
            Agentfs(sb, "patch", sb.StorePath, "-o", target).UserError(target, "is an AgentFs store");
        }
        Assert.Equal(storeHash, FileHash(sb.StorePath));
        Assert.Equal(otherHash, FileHash(other));
        Assert.Equal("a change to export\n", sb.Cat("/new.txt"));

        // Plain files are still replaced as before.
        string tar = sb.PathIn("out.tar"), patch = sb.PathIn("out.patch");
        File.WriteAllText(tar, "old");
        File.WriteAllText(patch, "old");
        Agentfs(sb, "export", sb.StorePath, tar, "--force").Ok();
        Agentfs(sb, "patch", sb.StorePath, "-o", patch).Ok();
        Assert.Contains("a change to export", File.ReadAllText(patch));
        sb.AssertBaseUnchanged();
    }
}
