using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentFs.Cli.Tests.Hooks;

/// <summary>
/// The whole loop, as a harness runs it: a branch mounted for real (<c>agentfs mount --background</c>, the built
/// program), the Claude Code hook installed, and a fake harness process that works in the mount as an agent does
/// (files changed by shell commands, a transcript of the session written as Claude Code writes it) and at the end
/// of each turn runs the installed hook command with <c>sh -c</c>, the Stop payload on stdin and its cwd in the
/// session. Each turn's changes must land in one checkpoint with that turn's metadata, a turn that changed nothing
/// must leave no checkpoint, and <c>agentfs trace --per-checkpoint</c> must attribute each turn's lines to its
/// model and conversation, in records valid against the Agent Trace schema.
/// </summary>
public class HookLoopTests
{
    private static string Program => Path.Combine(AppContext.BaseDirectory, "AgentFs.Cli");

    [Fact]
    public void A_fake_claude_code_gets_one_checkpoint_per_turn_with_its_metadata_and_a_trace_per_turn()
    {
        Assert.True(Environment.UserName == "root" || File.Exists("/usr/bin/fusermount3"), "mounting needs root or fusermount3");
        using var sb = new Sandbox();
        string mnt = sb.PathIn("mnt");
        Directory.CreateDirectory(mnt);
        string log = sb.PathIn("hook.log");
        string settings = Path.Combine(sb.Root, "claude", "settings.json");
        Cli.Run("hook", "install", "claude-code", "--settings", settings, "--command", Program).Ok();
        string hookCommand = (string)JsonNode.Parse(File.ReadAllText(settings))!["hooks"]!["Stop"]![0]!["hooks"]![0]!["command"]!;

        var mount = HookInstallTests.Run(sb.Root, Program, "mount", sb.StorePath, mnt, "--background");
        Assert.True(mount.Code == 0, mount.Output);
        try
        {
            string transcript = Path.Combine(sb.Root, "claude", "projects", "session-1.jsonl");
            Turn(sb, mnt, hookCommand, log, transcript, "session-1", "claude-opus-4-5", "add a greeting\nand say hello twice",
                "printf 'hello\\nhello\\n' > greet.txt && echo 'from the shell' >> a.txt");
            Turn(sb, mnt, hookCommand, log, transcript, "session-1", "claude-opus-4-5", "only look around", "cat a.txt greet.txt > /dev/null; ls -la > /dev/null");
            string transcript2 = Path.Combine(sb.Root, "claude", "projects", "session-2.jsonl");
            Turn(sb, mnt, hookCommand, log, transcript2, "session-2", "claude-sonnet-4-5", "write the notes",
                "mkdir -p docs && printf 'one\\ntwo\\n' > docs/notes.md && sed -i 's/hello/hi/' greet.txt");

            var checkpoints = JsonDocument.Parse(Cli.Run("log", sb.StorePath, "--json").Ok().Stdout).RootElement.GetProperty("checkpoints")
                .EnumerateArray().Reverse().ToList();
            Assert.Equal(2, checkpoints.Count); // the turn that only read made none
            Assert.Equal("claude-code turn: add a greeting", checkpoints[0].GetProperty("message").GetString());
            var meta1 = checkpoints[0].GetProperty("meta");
            Assert.Equal("claude-code", meta1.GetProperty("harness").GetString());
            Assert.Equal("session-1", meta1.GetProperty("session_id").GetString());
            Assert.Equal("Stop", meta1.GetProperty("hook_event").GetString());
            Assert.Equal("anthropic/claude-opus-4-5", meta1.GetProperty("model").GetString());
            Assert.Equal("add a greeting", meta1.GetProperty("prompt").GetString());
            Assert.Equal(new Uri(transcript).AbsoluteUri, meta1.GetProperty("conversation_url").GetString());
            Assert.Equal("claude-code turn: write the notes", checkpoints[1].GetProperty("message").GetString());
            Assert.Equal("anthropic/claude-sonnet-4-5", checkpoints[1].GetProperty("meta").GetProperty("model").GetString());

            // Each checkpoint holds exactly its turn's changes, the shell's included.
            string id1 = checkpoints[0].GetProperty("id").GetInt64().ToString(), id2 = checkpoints[1].GetProperty("id").GetInt64().ToString();
            Assert.Equal(["M\ta.txt", "A\tgreet.txt"], Cli.Run("diff", sb.StorePath, "--from", "base", "--to", id1, "--name-status").Ok().StdoutLines);
            Assert.Equal(["A\tdocs/notes.md", "M\tgreet.txt"], Cli.Run("diff", sb.StorePath, "--from", id1, "--to", id2, "--name-status").Ok().StdoutLines);

            var records = Cli.Run("trace", sb.StorePath, "--per-checkpoint", "--json").Ok().StdoutLines
                .Select(l => AgentFs.Tests.Trace.AgentTraceSchema.Check(l)).ToList();
            Assert.Equal(2, records.Count);
            Assert.Equal(["a.txt 2-2 anthropic/claude-opus-4-5", "greet.txt 1-2 anthropic/claude-opus-4-5"], Lines(records[0], transcript));
            Assert.Equal(["docs/notes.md 1-2 anthropic/claude-sonnet-4-5", "greet.txt 1-2 anthropic/claude-sonnet-4-5"], Lines(records[1], transcript2));
            Assert.DoesNotContain("checkpoint", File.ReadAllText(log).Split('\n').Where(l => l.Contains("only look")));
        }
        finally
        {
            HookInstallTests.Run(sb.Root, Program, "unmount", mnt);
        }
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void The_hook_exits_0_whatever_goes_wrong_and_says_why_in_its_log()
    {
        using var sb = new Sandbox();
        string log = sb.PathIn("hook.log");
        var env = new Dictionary<string, string> { ["AGENTFS_HOOK_LOG"] = log };
        // Outside any session, with no store: nothing to do, said in the log.
        var r = RunHook(sb.Root, env, "{\"session_id\":\"x\",\"hook_event_name\":\"Stop\",\"cwd\":\"/\"}", "hook", "run", "--harness", "claude-code");
        Assert.Equal(0, r.Code);
        Assert.Contains("no agentfs session contains /", File.ReadAllText(log));
        // A store that is not one, an argument it does not know, input that is not JSON: exit 0 each time, one log line each.
        File.WriteAllText(sb.PathIn("junk.agentfs"), "not a store");
        Assert.Equal(0, RunHook(sb.Root, env, "{}", "hook", "run", "--harness", "claude-code", "--store", sb.PathIn("junk.agentfs")).Code);
        Assert.Equal(0, RunHook(sb.Root, env, "{}", "hook", "run", "--bogus").Code);
        Assert.Equal(0, RunHook(sb.Root, env, "not json", "hook", "run", "--harness", "claude-code", "--store", sb.PathIn("missing.agentfs")).Code);
        var lines = File.ReadAllLines(log);
        Assert.Equal(5, lines.Length); // not json: one line for the input, one for the missing store
        Assert.Contains(lines, l => l.Contains("junk.agentfs"));
        Assert.Contains(lines, l => l.Contains("--bogus"));
        Assert.Contains(lines, l => l.Contains("not the JSON object"));
        Assert.Contains(lines, l => l.Contains("missing.agentfs"));

        // Not mounted, with --store: the store's own changes are checkpointed, once.
        sb.Write("/new.txt", "x\n").Ok();
        Assert.Equal(0, RunHook(sb.Root, env, "{\"session_id\":\"s\",\"hook_event_name\":\"Stop\"}", "hook", "run", "--harness", "claude-code", "--store", sb.StorePath).Code);
        Assert.Equal(0, RunHook(sb.Root, env, "{\"session_id\":\"s\",\"hook_event_name\":\"Stop\"}", "hook", "run", "--harness", "claude-code", "--store", sb.StorePath).Code);
        Assert.Single(Cli.Run("log", sb.StorePath).Ok().StdoutLines);
    }

    /// <summary>One turn of the fake harness: the agent's shell commands in the session, the transcript lines Claude
    /// Code writes for the turn, then the Stop hook as Claude Code runs it (sh -c COMMAND, JSON on stdin, cwd in the session).</summary>
    private static void Turn(Sandbox sb, string mnt, string hookCommand, string log, string transcript, string session, string model, string prompt, string shell)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(transcript)!);
        File.AppendAllLines(transcript,
        [
            JsonSerializer.Serialize(new JsonObject { ["type"] = "user", ["sessionId"] = session, ["message"] = new JsonObject { ["role"] = "user", ["content"] = prompt } }),
            JsonSerializer.Serialize(new JsonObject { ["type"] = "assistant", ["sessionId"] = session, ["message"] = new JsonObject { ["model"] = model, ["role"] = "assistant",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "tool_use", ["id"] = "t1", ["name"] = "Bash", ["input"] = new JsonObject { ["command"] = shell } }) } }),
            JsonSerializer.Serialize(new JsonObject { ["type"] = "user", ["sessionId"] = session, ["message"] = new JsonObject { ["role"] = "user",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = "t1", ["content"] = "" }) } }),
        ]);
        var work = HookInstallTests.Run(mnt, "sh", "-c", shell);
        Assert.True(work.Code == 0, work.Output);
        string payload = JsonSerializer.Serialize(new JsonObject
        {
            ["session_id"] = session, ["transcript_path"] = transcript, ["cwd"] = mnt, ["permission_mode"] = "default",
            ["hook_event_name"] = "Stop", ["stop_hook_active"] = false,
        });
        var r = RunHook(mnt, new Dictionary<string, string> { ["AGENTFS_HOOK_LOG"] = log }, payload, "-c", hookCommand, shell: true);
        Assert.True(r.Code == 0 && r.Stdout.Length == 0 && r.Stderr.Length == 0, $"the hook failed the turn: exit {r.Code}\n{r.Stdout}\n{r.Stderr}");
    }

    private static (int Code, string Stdout, string Stderr) RunHook(string cwd, Dictionary<string, string> env, string stdin, params string[] args) =>
        RunHook(cwd, env, stdin, args[0], args[1..], shell: false);

    private static (int Code, string Stdout, string Stderr) RunHook(string cwd, Dictionary<string, string> env, string stdin, string first, string second, bool shell) =>
        RunHook(cwd, env, stdin, first, [second], shell);

    private static (int Code, string Stdout, string Stderr) RunHook(string cwd, Dictionary<string, string> env, string stdin, string first, string[] rest, bool shell)
    {
        var psi = new ProcessStartInfo(shell ? "sh" : Program)
        {
            WorkingDirectory = cwd, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        psi.ArgumentList.Add(first);
        foreach (var a in rest) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        psi.Environment.Remove("AGENTFS_STORE");
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "the hook did not finish in 60 s");
        return (p.ExitCode, output, err.Result);
    }

    private static List<string> Lines(JsonElement record, string transcript)
    {
        var list = new List<string>();
        foreach (var f in record.GetProperty("files").EnumerateArray())
            foreach (var c in f.GetProperty("conversations").EnumerateArray())
            {
                Assert.Equal(new Uri(transcript).AbsoluteUri, c.GetProperty("url").GetString());
                string ranges = string.Join(",", c.GetProperty("ranges").EnumerateArray().Select(r => $"{r.GetProperty("start_line")}-{r.GetProperty("end_line")}"));
                list.Add($"{f.GetProperty("path").GetString()} {ranges} {c.GetProperty("contributor").GetProperty("model_id").GetString()}");
            }
        return list;
    }
}
