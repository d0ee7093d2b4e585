using System.Text.Json;

namespace AgentFs.Cli.Tests;

/// <summary><c>agentfs ops</c>: the log as text and JSON lines, checkpoint markers and task ranges, the summary,
/// the sandbox's network lines from STORE.log, and bad input (one line, nothing changed).</summary>
public class OpsCommandTests
{
    private static string[] Columns(string line) => line.Split('\t');

    [Fact]
    public void Ops_prints_each_operation_with_its_path_and_the_checkpoints_as_markers_newest_last()
    {
        using var sb = new Sandbox();
        sb.Write("src/new.c", "x\n").Ok();
        sb.Fs("mv", "src/new.c", "src/renamed.c").Ok();
        long one = sb.Checkpoint("task one");
        sb.Fs("rm", "a.txt").Ok();
        var lines = Cli.Run("ops", sb.StorePath).Ok().StdoutLines;
        Assert.Equal(["create", "write", "rename", "checkpoint", "unlink"], lines.Select(l => Columns(l)[2]));
        Assert.Equal(["src/new.c", "src/new.c", "src/new.c -> src/renamed.c", $"checkpoint {one}: task one", "a.txt"], lines.Select(l => Columns(l)[3]));
        Assert.Equal("2", Columns(lines[1])[4]);
        Assert.Matches(@"^\S+\[\d+\]$", Columns(lines[0])[1]);
        var times = lines.Select(l => DateTimeOffset.Parse(Columns(l)[0])).ToList();
        Assert.Equal(times.OrderBy(t => t), times);
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void From_and_to_checkpoints_select_one_task_and_json_lines_carry_every_key()
    {
        using var sb = new Sandbox();
        sb.Write("one.txt", "1").Ok();
        long a = sb.Checkpoint("first");
        sb.Write("two.txt", "2").Ok();
        sb.Fs("mkdir", "dir").Ok();
        long b = sb.Checkpoint("second");
        sb.Write("three.txt", "3").Ok();
        var docs = Cli.Run("ops", sb.StorePath, "--from", a.ToString(), "--to", b.ToString(), "--json").Ok().StdoutLines
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["create", "write", "mkdir", "checkpoint"], docs.Select(d => d.GetProperty("op").GetString()));
        Assert.Equal(["two.txt", "two.txt", "dir", null], docs.Select(d => d.GetProperty("path").GetString()));
        Assert.Equal(b, docs[^1].GetProperty("checkpoint").GetInt64());
        Assert.Equal("second", docs[^1].GetProperty("detail").GetString());
        foreach (var key in new[] { "seq", "time", "branch", "op", "path", "to", "ino", "bytes", "pid", "uid", "process", "checkpoint", "detail" })
            Assert.All(docs, d => Assert.True(d.TryGetProperty(key, out _), key));
        Assert.Equal(1, docs[1].GetProperty("bytes").GetInt64());
        Assert.Equal(["three.txt", "three.txt"], Cli.Run("ops", sb.StorePath, "--from", b.ToString()).Ok().StdoutLines.Select(l => Columns(l)[3]));
        Assert.Equal(["mkdir"], Cli.Run("ops", sb.StorePath, "--op", "mkdir").Ok().StdoutLines.Select(l => Columns(l)[2]));
        Assert.Equal(["checkpoint", "checkpoint"], Cli.Run("ops", sb.StorePath, "--op", "checkpoint").Ok().StdoutLines.Select(l => Columns(l)[2]));
    }

    [Fact]
    public void Path_glob_process_pid_and_since_filter()
    {
        using var sb = new Sandbox();
        sb.Fs("mkdir", "docs").Ok();
        sb.Write("docs/a.md", "a").Ok();
        sb.Write("src/b.c", "b").Ok();
        Assert.Equal(["docs", "docs/a.md", "docs/a.md"], Cli.Run("ops", sb.StorePath, "--path", "docs").Ok().StdoutLines.Select(l => Columns(l)[3]));
        Assert.Equal(["src/b.c", "src/b.c"], Cli.Run("ops", sb.StorePath, "--path", "*.c").Ok().StdoutLines.Select(l => Columns(l)[3]));
        Assert.Empty(Cli.Run("ops", sb.StorePath, "--path", "nothing/*", "--op", "create,write").Ok().StdoutBytes);
        string me = File.ReadAllText($"/proc/{Environment.ProcessId}/comm").Trim();
        Assert.Equal(5, Cli.Run("ops", sb.StorePath, "--process", me).Ok().StdoutLines.Length);
        Assert.Equal(5, Cli.Run("ops", sb.StorePath, "--pid", Environment.ProcessId.ToString()).Ok().StdoutLines.Length);
        Assert.Empty(Cli.Run("ops", sb.StorePath, "--pid", "1").Ok().StdoutBytes);
        Assert.Equal(5, Cli.Run("ops", sb.StorePath, "--since", "1h").Ok().StdoutLines.Length);
        Assert.Empty(Cli.Run("ops", sb.StorePath, "--since", DateTimeOffset.UtcNow.AddMinutes(1).ToString("O")).Ok().StdoutBytes);
        Assert.Equal(5, Cli.Run("ops", sb.StorePath, "--since", "2020-01-01").Ok().StdoutLines.Length);
    }

    [Fact]
    public void Summary_groups_by_process_and_top_level_directory()
    {
        using var sb = new Sandbox();
        sb.Fs("mkdir", "docs").Ok();
        sb.Write("docs/a.md", "aaaa").Ok();
        sb.Write("docs/b.md", "bb").Ok();
        sb.Write("top.txt", "t").Ok();
        var doc = JsonDocument.Parse(Cli.Run("ops", sb.StorePath, "--summary", "--json").Ok().Stdout).RootElement;
        var dirs = doc.GetProperty("directories").EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!);
        Assert.Equal(4, dirs["docs"].GetProperty("ops").GetInt64());
        Assert.Equal(6, dirs["docs"].GetProperty("bytes_written").GetInt64());
        Assert.Equal(2, dirs["docs"].GetProperty("files_touched").GetInt32());
        Assert.Equal(3, dirs["."].GetProperty("ops").GetInt64()); // mkdir docs, create and write top.txt
        var procs = doc.GetProperty("processes").EnumerateArray().ToList();
        Assert.Single(procs);
        Assert.Equal(7, procs[0].GetProperty("ops").GetInt64());
        Assert.Equal(7, procs[0].GetProperty("bytes_written").GetInt64());
        var text = Cli.Run("ops", sb.StorePath, "--summary").Ok().StdoutLines;
        Assert.Contains(text, l => l.StartsWith("directory\tdocs\t4\t6\t2"));
    }

    /// <summary>The lines 'agentfs run --net allow=' writes to STORE.log (format of MountLog.Write and
    /// NetworkAttempt.ToString) come in the same stream, at their time; other branches' and other lines do not.</summary>
    [Fact]
    public void The_sandbox_network_log_appears_in_the_stream()
    {
        using var sb = new Sandbox();
        sb.Write("before.txt", "b").Ok();
        Thread.Sleep(20);
        var when = DateTimeOffset.Now;
        File.AppendAllText(sb.StorePath + ".log",
            $"{when:yyyy-MM-dd HH:mm:ss.fff zzz} agentfs[4242]: mounted branch main at /x\n" +
            $"{when:yyyy-MM-dd HH:mm:ss.fff zzz} agentfs[4242]: net: branch main: refused CONNECT evil.example:443: not in the allow list\n" +
            $"{when:yyyy-MM-dd HH:mm:ss.fff zzz} agentfs[4242]: net: branch other: allowed CONNECT ok.example:443 (1.2.3.4:443): 1 bytes sent, 2 received\n");
        Thread.Sleep(20);
        sb.Write("after.txt", "a").Ok();
        var lines = Cli.Run("ops", sb.StorePath).Ok().StdoutLines;
        Assert.Equal(["create", "write", "net", "create", "write"], lines.Select(l => Columns(l)[2]));
        Assert.Equal("refused CONNECT evil.example:443: not in the allow list", Columns(lines[2])[3]);
        Assert.Equal("agentfs[4242]", Columns(lines[2])[1]);
        Assert.Empty(Cli.Run("ops", sb.StorePath, "--op", "net", "--path", "*").Ok().StdoutBytes);
        var net = JsonDocument.Parse(Cli.Run("ops", sb.StorePath, "--op", "net", "--json").Ok().StdoutLines.Single()).RootElement;
        Assert.Equal(4242, net.GetProperty("pid").GetInt32());
    }

    [Fact]
    public void Bad_input_gets_one_line_and_changes_nothing()
    {
        using var sb = new Sandbox();
        sb.Write("x.txt", "x").Ok();
        string before = sb.StoreSnapshot();
        Cli.Run("ops", sb.StorePath, "--from", "99").UserError("checkpoint 99", sb.StorePath);
        Cli.Run("ops", sb.StorePath, "--to", "ghost").UserError("'ghost'", sb.StorePath);
        Cli.Run("ops", sb.StorePath, "--branch", "ghost").UserError("ghost", sb.StorePath);
        Cli.Run("ops", sb.StorePath, "--since", "yesterday-ish").UserError("--since 'yesterday-ish'");
        Cli.Run("ops", sb.StorePath, "--op", "write,explode").UserError("--op explode");
        Cli.Run("ops", sb.StorePath, "--pid", "1", "--process", "sh").UsageError("--pid and --process");
        Cli.Run("ops", sb.StorePath, "--pid", "one").UsageError("one");
        Cli.Run("ops", sb.PathIn("missing.agentfs")).UserError("missing.agentfs", "does not exist");
        Assert.Equal(before, sb.StoreSnapshot());
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Follow_on_a_branch_nobody_writes_prints_the_log_and_says_so()
    {
        using var sb = new Sandbox();
        sb.Write("x.txt", "x").Ok();
        var r = Cli.Run("ops", sb.StorePath, "--follow");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(2, r.StdoutLines.Length);
        Assert.Contains("not mounted or sandboxed", r.Stderr);
    }
}
