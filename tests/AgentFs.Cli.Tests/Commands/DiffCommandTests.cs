using System.Diagnostics;
using System.Text.Json;

namespace AgentFs.Cli.Tests;

public class DiffCommandTests
{
    /// <summary>A sandbox whose main branch changed a.txt, added src/new.c, deleted the link, made main.c non-executable.</summary>
    internal static Sandbox Changed()
    {
        var sb = new Sandbox();
        sb.Write("/a.txt", "hello\nworld\n").Ok();
        sb.Write("/src/new.c", "int x;\n").Ok();
        sb.Fs("rm", "/link").Ok();
        sb.Fs("chmod", "644", "/src/main.c").Ok();
        return sb;
    }

    [Fact]
    public void Diff_prints_a_unified_diff_from_the_base_to_the_branch_head()
    {
        using var sb = Changed();
        var r = Cli.Run("diff", sb.StorePath).Ok();
        Assert.Equal(
            "diff --git a/a.txt b/a.txt\n" +
            "index ce013625030ba8dba906f756967f9e9ca394464a..94954abda49de8615a048f8d2e64b5de848e27a1 100644\n" +
            "--- a/a.txt\n" +
            "+++ b/a.txt\n" +
            "@@ -1 +1,2 @@\n" +
            " hello\n" +
            "+world\n" +
            "diff --git a/link b/link\n" +
            "deleted file mode 120000\n" +
            "index 8d14cbf983b3fad683171c9418998d9f68340823..0000000000000000000000000000000000000000\n" +
            "--- a/link\n" +
            "+++ /dev/null\n" +
            "@@ -1 +0,0 @@\n" +
            "-a.txt\n" +
            "\\ No newline at end of file\n" +
            "diff --git a/src/main.c b/src/main.c\n" +
            "old mode 100755\n" +
            "new mode 100644\n" +
            "diff --git a/src/new.c b/src/new.c\n" +
            "new file mode 100644\n" +
            "index 0000000000000000000000000000000000000000..6d1a0d47b7f73eacb962f3711df06b21ed11f7ca\n" +
            "--- /dev/null\n" +
            "+++ b/src/new.c\n" +
            "@@ -0,0 +1 @@\n" +
            "+int x;\n", r.Stdout);
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Name_status_and_stat_are_git_s()
    {
        using var sb = Changed();
        Assert.Equal(["M\ta.txt", "D\tlink", "M\tsrc/main.c", "A\tsrc/new.c"], Cli.Run("diff", sb.StorePath, "--name-status").Ok().StdoutLines);
        Assert.Equal(
        [
            " a.txt      | 1 +",
            " link       | 1 -",
            " src/main.c | 0",
            " src/new.c  | 1 +",
            " 4 files changed, 2 insertions(+), 1 deletion(-)",
        ], Cli.Run("diff", sb.StorePath, "--stat").Ok().StdoutLines);
    }

    [Fact]
    public void From_and_to_take_checkpoints_branches_and_base()
    {
        using var sb = new Sandbox();
        sb.Write("/one.txt", "1\n").Ok();
        long cp = sb.Checkpoint("one");
        sb.Write("/two.txt", "2\n").Ok();
        Assert.Equal(["A\ttwo.txt"], Cli.Run("diff", sb.StorePath, "--from", cp.ToString(), "--name-status").Ok().StdoutLines);
        Assert.Equal(["D\tone.txt"], Cli.Run("diff", sb.StorePath, "--from", cp.ToString(), "--to", "base", "--name-status").Ok().StdoutLines);
        Cli.Run("branch", sb.StorePath, "alt", "--from", cp.ToString()).Ok();
        Assert.Equal(["A\ttwo.txt"], Cli.Run("diff", sb.StorePath, "--from", "alt", "--to", "main", "--name-status").Ok().StdoutLines);
        Assert.Equal(["A\tone.txt"], Cli.Run("diff", sb.StorePath, "--branch", "alt", "--name-status").Ok().StdoutLines);
        Assert.Empty(Cli.Run("diff", sb.StorePath, "--from", "main", "--to", "main").Ok().StdoutBytes);
    }

    [Fact]
    public void Json_lists_every_change_with_its_sides()
    {
        using var sb = Changed();
        sb.Fs("mkdir", "/newdir").Ok();
        var doc = JsonDocument.Parse(Cli.Run("diff", sb.StorePath, "--json", "--stat").Ok().Stdout).RootElement;
        Assert.Equal("base", doc.GetProperty("from").GetString());
        Assert.Equal("main", doc.GetProperty("to").GetString());
        var changes = doc.GetProperty("changes").EnumerateArray().ToList();
        Assert.Equal(["a.txt", "link", "newdir", "src/main.c", "src/new.c"], changes.Select(c => c.GetProperty("path").GetString()));
        var a = changes[0];
        Assert.Equal("modified", a.GetProperty("status").GetString());
        Assert.Equal("file", a.GetProperty("type").GetString());
        Assert.Equal("0644", a.GetProperty("mode").GetString());
        Assert.Equal(12, a.GetProperty("size").GetInt64());
        Assert.Equal(6, a.GetProperty("old_size").GetInt64());
        Assert.True(a.GetProperty("content_changed").GetBoolean());
        Assert.Equal(1, a.GetProperty("insertions").GetInt64());
        Assert.Equal(0, a.GetProperty("deletions").GetInt64());
        var link = changes[1];
        Assert.Equal("deleted", link.GetProperty("status").GetString());
        Assert.Equal("a.txt", link.GetProperty("old_target").GetString());
        Assert.Equal(JsonValueKind.Null, link.GetProperty("target").ValueKind);
        var dir = changes[2];
        Assert.Equal("directory", dir.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, dir.GetProperty("insertions").ValueKind);
        var main = changes[3];
        Assert.True(main.GetProperty("mode_changed").GetBoolean());
        Assert.False(main.GetProperty("content_changed").GetBoolean());
        Assert.Equal("0755", main.GetProperty("old_mode").GetString());
    }

    [Fact]
    public void Bad_input_is_one_clear_line()
    {
        using var sb = Changed();
        Cli.Run("diff", sb.StorePath, "--from", "nope").UserError("'nope' is not base, a checkpoint or a branch");
        Cli.Run("diff", sb.StorePath, "--to", "77").UserError("checkpoint 77 does not exist");
        Cli.Run("diff", sb.StorePath, "--branch", "ghost").UserError("'ghost'");
        Cli.Run("diff", sb.StorePath, "--name-status", "--stat").UsageError("--name-status and --stat");
        Cli.Run("diff", Path.Combine(sb.Root, "missing.agentfs")).UserError("does not exist");
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void A_base_that_drifted_under_a_copied_up_file_is_refused_naming_it()
    {
        using var sb = Changed();
        File.WriteAllText(Path.Combine(sb.BaseDir, "a.txt"), "edited behind the store's back\n");
        foreach (var args in new[] { new[] { "diff" }, ["diff", "--name-status"], ["patch"], ["apply", Path.Combine(sb.Root, "t")] })
        {
            Directory.CreateDirectory(Path.Combine(sb.Root, "t"));
            var r = Cli.Run([args[0], sb.StorePath, .. args[1..]]).UserError("a.txt (changed in the base)", "start a new store");
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(sb.Root, "t")));
    }

    /// <summary>git, run in a directory.</summary>
    internal static string Git(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = dir;
        psi.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"git {string.Join(' ', args)}: {err.Result}");
        return output;
    }

    /// <summary>cp -a of a directory's content into another.</summary>
    internal static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        using var p = Process.Start(new ProcessStartInfo("cp", ["-a", from + "/.", to]))!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
