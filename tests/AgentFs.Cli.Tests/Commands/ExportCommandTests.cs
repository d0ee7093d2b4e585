using System.Formats.Tar;
using System.Diagnostics;
using System.Text.Json;

namespace AgentFs.Cli.Tests;

public class ExportCommandTests
{
    private static (int Code, string Err) Tar(params string[] args)
    {
        var psi = new ProcessStartInfo("tar") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEnd();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err);
    }

    [Fact]
    public void Export_writes_a_tar_that_gnu_tar_extracts_into_the_branch_tree()
    {
        using var sb = new Sandbox();
        sb.Write("/src/main.c", "int main(void) { return 7; }\n").Ok();
        sb.Fs("rm", "/a.txt").Ok();
        sb.Fs("mkdir", "/new").Ok();
        sb.Write("/new/file.txt", "new\n").Ok();
        sb.Fs("ln", "/new/file.txt", "/new/hard").Ok();
        sb.Fs("symlink", "../src/main.c", "/new/sym").Ok();
        string tar = sb.PathIn("out.tar");
        var r = Cli.Run("export", sb.StorePath, tar).Ok();
        Assert.Contains($"exported branch main of store {sb.StorePath} to {tar}", r.Stdout);
        Assert.Contains("1 hard links", r.Stdout);

        string dest = sb.PathIn("x");
        Directory.CreateDirectory(dest);
        var x = Tar("-xpf", tar, "-C", dest);
        Assert.True(x.Code == 0, x.Err);
        Assert.False(File.Exists(Path.Combine(dest, "a.txt")));
        Assert.Equal("int main(void) { return 7; }\n", File.ReadAllText(Path.Combine(dest, "src/main.c")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(sb.BaseDir, "src/lib/blob.bin")), File.ReadAllBytes(Path.Combine(dest, "src/lib/blob.bin")));
        Assert.Equal("../src/main.c", new FileInfo(Path.Combine(dest, "new/sym")).LinkTarget);
        Assert.Equal("a.txt", new FileInfo(Path.Combine(dest, "link")).LinkTarget);
        Assert.True(Directory.Exists(Path.Combine(dest, "empty")));
        Assert.Equal((UnixFileMode)Convert.ToInt32("755", 8), File.GetUnixFileMode(Path.Combine(dest, "src/main.c")));
        File.AppendAllText(Path.Combine(dest, "new/hard"), "via the other link\n");
        Assert.Equal("new\nvia the other link\n", File.ReadAllText(Path.Combine(dest, "new/file.txt")));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Export_to_stdout_writes_the_tar_there()
    {
        using var sb = new Sandbox();
        var r = Cli.Run("export", sb.StorePath, "-").Ok();
        using var reader = new TarReader(new MemoryStream(r.StdoutBytes));
        var names = new List<string>();
        while (reader.GetNextEntry() is { } e) names.Add(e.Name);
        Assert.Equal(["a.txt", "empty/", "link", "src/", "src/lib/", "src/lib/blob.bin", "src/main.c"], names);
        Cli.Run("export", sb.StorePath, "-", "--json").UserError("--json");
    }

    [Fact]
    public void Export_json_counts_what_it_wrote()
    {
        using var sb = new Sandbox();
        var doc = JsonDocument.Parse(Cli.Run("export", sb.StorePath, sb.PathIn("o.tar"), "--json").Ok().Stdout).RootElement;
        Assert.Equal(7, doc.GetProperty("entries").GetInt64());
        Assert.Equal(3, doc.GetProperty("files").GetInt64());
        Assert.Equal(3, doc.GetProperty("directories").GetInt64());
        Assert.Equal(1, doc.GetProperty("symlinks").GetInt64());
        Assert.Equal(6 + 29 + 70_000, doc.GetProperty("content_bytes").GetInt64());
        Assert.Equal(0, doc.GetProperty("warnings").GetArrayLength());
        Assert.Equal("main", doc.GetProperty("branch").GetString());
    }

    [Fact]
    public void Export_refuses_an_existing_file_an_unknown_branch_and_a_missing_directory()
    {
        using var sb = new Sandbox();
        string tar = sb.PathIn("o.tar");
        File.WriteAllText(tar, "keep");
        Cli.Run("export", sb.StorePath, tar).UserError(tar, "already exists", "--force");
        Assert.Equal("keep", File.ReadAllText(tar));
        Cli.Run("export", sb.StorePath, tar, "--force").Ok();
        Cli.Run("export", sb.StorePath, sb.PathIn("g.tar"), "--branch", "ghost").UserError("ghost", "does not exist");
        Assert.False(File.Exists(sb.PathIn("g.tar")));
        Assert.False(File.Exists(sb.PathIn("g.tar.tmp")));
        string nodir = Path.Combine(sb.Root, "nodir", "o.tar");
        Cli.Run("export", sb.StorePath, nodir).UserError(nodir, "does not exist");
    }

    [Fact]
    public void What_a_tar_cannot_hold_is_reported_as_warnings()
    {
        using var sb = new Sandbox();
        using (var store = AgentStore.Open(sb.StorePath))
        using (var fs = store.OpenFileSystem())
            fs.MakeNode("sock", PosixMode.S_IFSOCK | Convert.ToUInt32("755", 8));
        var r = Cli.Run("export", sb.StorePath, sb.PathIn("o.tar"));
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(["agentfs: warning: sock: a socket; tar has no entry type for it, so it is left out"], r.StderrLines);
    }
}
