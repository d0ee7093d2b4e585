using System.Text.Json;

namespace AgentFs.Cli.Tests;

public class ApplyCommandTests
{
    private static string Target(Sandbox sb)
    {
        string t = sb.PathIn("target");
        DiffCommandTests.CopyTree(sb.BaseDir, t);
        return t;
    }

    [Fact]
    public void Apply_writes_the_changes_and_lists_them()
    {
        using var sb = DiffCommandTests.Changed();
        sb.Fs("mkdir", "-p", "/made/deep").Ok();
        sb.Write("/made/deep/f.txt", "deep\n").Ok();
        string target = Target(sb);
        var r = Cli.Run("apply", sb.StorePath, target).Ok();
        Assert.Equal(
        [
            "M\ta.txt", "D\tlink", "A\tmade/", "A\tmade/deep/", "A\tmade/deep/f.txt", "M\tsrc/main.c", "A\tsrc/new.c",
            $"applied 7 changes of branch main to {target}",
        ], r.StdoutLines);
        Assert.Equal("hello\nworld\n", File.ReadAllText(Path.Combine(target, "a.txt")));
        Assert.False(File.Exists(Path.Combine(target, "link")) || new FileInfo(Path.Combine(target, "link")).LinkTarget != null);
        Assert.Equal("deep\n", File.ReadAllText(Path.Combine(target, "made/deep/f.txt")));
        Assert.Equal((UnixFileMode)Convert.ToInt32("644", 8), File.GetUnixFileMode(Path.Combine(target, "src/main.c")));
        Assert.Equal("int x;\n", File.ReadAllText(Path.Combine(target, "src/new.c")));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Dry_run_writes_nothing()
    {
        using var sb = DiffCommandTests.Changed();
        string target = Target(sb);
        string before = Sandbox.TreeHash(target);
        var r = Cli.Run("apply", sb.StorePath, target, "--dry-run").Ok();
        Assert.Equal($"dry run: 4 changes of branch main would be applied to {target}; nothing was written", r.StdoutLines[^1]);
        Assert.Equal(before, Sandbox.TreeHash(target));
        var doc = JsonDocument.Parse(Cli.Run("apply", sb.StorePath, target, "-n", "--json").Ok().Stdout).RootElement;
        Assert.True(doc.GetProperty("dry_run").GetBoolean());
        Assert.False(doc.GetProperty("applied").GetBoolean());
        var steps = doc.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("action").GetString() + " " + s.GetProperty("path").GetString()).ToList();
        Assert.Equal(["delete link", "write_file a.txt", "write_file src/new.c", "set_mode src/main.c"], steps);
        Assert.Equal(before, Sandbox.TreeHash(target));
    }

    [Fact]
    public void Conflicts_are_listed_on_one_line_and_nothing_is_written()
    {
        using var sb = DiffCommandTests.Changed();
        string target = Target(sb);
        File.WriteAllText(Path.Combine(target, "a.txt"), "changed in the project meanwhile\n");
        File.WriteAllText(Path.Combine(target, "src/new.c"), "also created there\n");
        string before = Sandbox.TreeHash(target);
        Cli.Run("apply", sb.StorePath, target).UserError(
            "no longer matches what branch main was made against (2 conflicts)", "nothing was written",
            "a.txt: was changed in the target", "src/new.c: already exists in the target");
        Assert.Equal(before, Sandbox.TreeHash(target));
        Cli.Run("apply", sb.StorePath, target, "--dry-run").UserError("2 conflicts");
    }

    [Fact]
    public void A_symlink_out_of_the_target_is_not_followed()
    {
        using var sb = DiffCommandTests.Changed();
        string target = Target(sb);
        string outside = sb.PathIn("outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "main.c"), File.ReadAllText(Path.Combine(sb.BaseDir, "src/main.c")));
        Directory.Delete(Path.Combine(target, "src"), true);
        File.CreateSymbolicLink(Path.Combine(target, "src"), outside);
        Cli.Run("apply", sb.StorePath, target).UserError("src: is a symlink in the target");
        Assert.Equal(["main.c"], Directory.EnumerateFileSystemEntries(outside).Select(Path.GetFileName));
    }

    [Fact]
    public void Bad_input_is_one_clear_line()
    {
        using var sb = DiffCommandTests.Changed();
        Cli.Run("apply", sb.StorePath, sb.PathIn("missing")).UserError("target directory", "missing");
        Cli.Run("apply", sb.StorePath, sb.PathIn("target"), "--branch", "ghost").UserError("'ghost'");
        Cli.Run("apply", sb.StorePath).UsageError("apply --help");
        Cli.Run("apply", sb.PathIn("nostore.agentfs"), sb.Root).UserError("does not exist");
    }
}
