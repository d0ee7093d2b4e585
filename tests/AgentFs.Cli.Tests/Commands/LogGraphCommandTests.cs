using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AgentFs.Cli.Tests;

/// <summary>
/// <c>agentfs log --graph</c> on real stores with branches forked from checkpoints, a branch of a branch, a rollback
/// that leaves a checkpoint behind and a branch with no changes: the drawn text is checked exactly, line for line.
/// </summary>
public class LogGraphCommandTests
{
    /// <summary>The store of the tests below. Ids: 1, 2 on main; 3 on side (from 1); 4 on main, then main rolled
    /// back to 2 (4 is left behind); 5 on deep (from 3); empty from 2 with no changes.</summary>
    internal static Sandbox ForkedStore()
    {
        var sb = new Sandbox();
        sb.Write("a.txt", "hello\nworld\n").Ok();
        Assert.Equal(1, sb.Checkpoint("task 1"));
        sb.Write("b.txt", "x\ny\n").Ok();
        Assert.Equal(2, sb.Checkpoint("task 2"));
        Cli.Run("branch", sb.StorePath, "side", "--from", "1").Ok();
        sb.Write("src/main.c", "int main(void) { return 1; }\n", "side").Ok();
        Assert.Equal(3, sb.Checkpoint("try\tanother way", "side"));
        sb.Write("c.txt", "c\n").Ok();
        Assert.Equal(4, sb.Checkpoint("task 3"));
        Cli.Run("rollback", sb.StorePath, "2").Ok();
        sb.Write("d.txt", "d\nd\n").Ok();
        Cli.Run("branch", sb.StorePath, "deep", "--from", "3").Ok();
        sb.Write("deep.txt", "1\n2\n3\n", "deep").Ok();
        Assert.Equal(5, sb.Checkpoint("deeper", "deep"));
        Cli.Run("branch", sb.StorePath, "empty", "--from", "2").Ok();
        // side's head: a binary file (a file, no lines) and a directory (a change git does not show).
        Cli.RunWithInput(new byte[] { 0, 1, 2, 0, 255 }, "fs", sb.StorePath, "write", "x.bin", "--branch", "side").Ok();
        sb.Fs("mkdir", "newdir", "--branch", "side").Ok();
        return sb;
    }

    /// <summary>The time column of checkpoint <paramref name="id"/> as log --json gives it (UTC, to the second).</summary>
    internal static string TimeOf(Sandbox sb, long id, string branch = "main")
    {
        var doc = JsonDocument.Parse(Cli.Run("log", sb.StorePath, "--branch", branch, "--json").Ok().Stdout).RootElement;
        var cp = doc.GetProperty("checkpoints").EnumerateArray().Single(c => c.GetProperty("id").GetInt64() == id);
        return DateTimeOffset.Parse(cp.GetProperty("created").GetString()!, CultureInfo.InvariantCulture).UtcDateTime
            .ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Graph_draws_every_branch_and_checkpoint_as_a_tree_with_what_each_changed()
    {
        using var sb = ForkedStore();
        string t1 = TimeOf(sb, 1), t2 = TimeOf(sb, 2), t3 = TimeOf(sb, 3, "side"), t4 = Time4(sb), t5 = TimeOf(sb, 5, "deep");
        string expected =
            "@ main: head (1 file, +2 -0)\n" +
            "| @ empty: head (no changes)\n" +
            "|/\n" +
            $"| * 4 {t4} main: task 3 (1 file, +1 -0)\n" +
            "|/\n" +
            $"* 2 {t2} main: task 2 (1 file, +2 -0)\n" +
            "| @ side: head (1 file, +0 -0, 1 other change)\n" +
            "| | @ deep: head (no changes)\n" +
            $"| | * 5 {t5} deep: deeper (1 file, +3 -0)\n" +
            "| |/\n" +
            $"| * 3 {t3} side: try another way (1 file, +1 -1)\n" +
            "|/\n" +
            $"* 1 {t1} main: task 1 (1 file, +1 -0)\n" +
            $"o base: {sb.BaseDir}\n";
        Assert.Equal(expected, Cli.Run("log", sb.StorePath, "--graph").Ok().Stdout);
        sb.AssertBaseUnchanged();
    }

    /// <summary>Checkpoint 4 is in no branch's history after the rollback: its time comes from the store itself.</summary>
    private static string Time4(Sandbox sb)
    {
        using var s = AgentStore.Open(sb.StorePath, new StoreOptions { ReadOnly = true });
        return s.GetCheckpoint(4).Created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Graph_of_one_branch_is_its_history_only()
    {
        using var sb = ForkedStore();
        string expected =
            "@ deep: head (no changes)\n" +
            $"* 5 {TimeOf(sb, 5, "deep")} deep: deeper (1 file, +3 -0)\n" +
            $"* 3 {TimeOf(sb, 3, "side")} side: try another way (1 file, +1 -1)\n" +
            $"* 1 {TimeOf(sb, 1)} main: task 1 (1 file, +1 -0)\n" +
            $"o base: {sb.BaseDir}\n";
        Assert.Equal(expected, Cli.Run("log", sb.StorePath, "--graph", "--branch", "deep").Ok().Stdout);
    }

    [Fact]
    public void Graph_of_a_new_store_is_its_head_over_the_base()
    {
        using var sb = new Sandbox();
        Assert.Equal($"@ main: head (no changes)\no base: {sb.BaseDir}\n", Cli.Run("log", sb.StorePath, "--graph").Ok().Stdout);
        sb.Write("a.txt", "bye\n").Ok();
        sb.Fs("rm", "src/main.c").Ok();
        Assert.Equal($"@ main: head (2 files, +1 -2)\no base: {sb.BaseDir}\n", Cli.Run("log", sb.StorePath, "--graph").Ok().Stdout);
    }

    [Fact]
    public void Graph_refuses_bad_input_with_one_line()
    {
        using var sb = new Sandbox();
        Cli.Run("log", sb.StorePath, "--graph", "--branch", "ghost").UserError("ghost", sb.StorePath);
        Cli.Run("log", sb.StorePath, "--graph", "--json").UsageError("--graph", "--json");
        Cli.Run("log", sb.PathIn("missing.agentfs"), "--graph").UserError("missing.agentfs");
    }
}

/// <summary><c>log --graph</c> on a real terminal (a pty from util-linux's script): the same text, in colour.</summary>
public class LogGraphTerminalTests(ScriptFixture script) : IClassFixture<ScriptFixture>
{
    [Fact]
    public void On_a_terminal_the_graph_is_the_same_text_in_colour()
    {
        using var sb = LogGraphCommandTests.ForkedStore();
        string plain = Cli.Run("log", sb.StorePath, "--graph").Ok().Stdout;
        var psi = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in (string[])["-qec", $"'{script.Script}' log '{sb.StorePath}' --graph", "/dev/null"]) psi.ArgumentList.Add(a);
        psi.Environment["TERM"] = "xterm-256color";
        psi.Environment.Remove("NO_COLOR");
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "script did not finish");
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {output} {p.StandardError.ReadToEnd()}");
        Assert.Contains("\e[", output);
        Assert.Matches(@"\e\[[0-9;]*m\+2\e\[0m", output); // main head's +2 lines, coloured
        string stripped = Regex.Replace(output, @"\e\[[0-9;?]*[A-Za-z]|\e[=>]|\r", "");
        Assert.Equal(plain, stripped);
    }
}
