using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace AgentFs.Cli.Tests.Hooks;

/// <summary>
/// <c>agentfs hook install</c>: the files it writes are the harness's real configuration. Claude Code's settings are
/// checked against its published settings schema (ClaudeCodeSettingsSchema.json, schemastore.org); OpenCode's plugin
/// is type-checked by tsc against the Plugin type of the real @opencode-ai/plugin package (from the npm registry)
/// and loaded by node, whose calls of its hooks must run the hook command with the payload.
/// </summary>
public class HookInstallTests
{
    private static readonly JsonSchema ClaudeSchema = LoadSchema();

    private static JsonSchema LoadSchema()
    {
        using var stream = typeof(HookInstallTests).Assembly.GetManifestResourceStream("ClaudeCodeSettingsSchema.json")!;
        return JsonSchema.FromText(new StreamReader(stream).ReadToEnd());
    }

    private static void AssertValidClaudeSettings(string path)
    {
        var doc = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        var result = ClaudeSchema.Evaluate(doc, new EvaluationOptions { OutputFormat = OutputFormat.List });
        var errors = (result.Details ?? []).SelectMany(d => (d.Errors ?? new Dictionary<string, string>()).Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}"));
        Assert.True(result.IsValid, string.Join("\n", errors) + "\n" + File.ReadAllText(path));
    }

    private const string Existing = """
        {
          "permissions": { "allow": ["Bash(npm run *)"] },
          "model": "opus",
          "hooks": {
            "Stop": [ { "hooks": [ { "type": "command", "command": "notify-send done" } ] } ],
            "PreToolUse": [ { "matcher": "Bash", "hooks": [ { "type": "command", "command": "check.sh", "timeout": 5 } ] } ]
          }
        }
        """;

    [Fact]
    public void Claude_code_hooks_merge_into_existing_settings_and_follow_the_settings_schema()
    {
        using var sb = new Sandbox();
        string project = sb.PathIn("project");
        Directory.CreateDirectory(Path.Combine(project, ".claude"));
        string settings = Path.Combine(project, ".claude", "settings.json");
        File.WriteAllText(settings, Existing);

        var r = Cli.Run("hook", "install", "claude-code", "--dir", project, "--store", sb.StorePath, "--per", "tool", "--command", "/opt/agentfs/bin/agentfs").Ok();
        Assert.StartsWith($"installed the claude-code hook in {settings} (Stop, PostToolUse, PostToolUseFailure)", r.Stdout);
        AssertValidClaudeSettings(settings);

        var json = JsonNode.Parse(File.ReadAllText(settings))!.AsObject();
        // Everything that was there is still there, unchanged and first.
        Assert.Equal("""{"allow":["Bash(npm run *)"]}""", json["permissions"]!.ToJsonString());
        Assert.Equal("opus", (string?)json["model"]);
        Assert.Equal("""[{"matcher":"Bash","hooks":[{"type":"command","command":"check.sh","timeout":5}]}]""", json["hooks"]!["PreToolUse"]!.ToJsonString());
        var stop = json["hooks"]!["Stop"]!.AsArray();
        Assert.Equal("notify-send done", (string?)stop[0]!["hooks"]![0]!["command"]);
        string expected = $"/opt/agentfs/bin/agentfs hook run --harness claude-code --store {sb.StorePath}";
        Assert.Equal(expected, (string?)stop[1]!["hooks"]![0]!["command"]);
        Assert.Null(stop[1]!["matcher"]);
        foreach (var ev in new[] { "PostToolUse", "PostToolUseFailure" })
        {
            var group = json["hooks"]![ev]!.AsArray().Single()!;
            Assert.Equal("*", (string?)group["matcher"]);
            Assert.Equal(expected, (string?)group["hooks"]![0]!["command"]);
            Assert.Equal("command", (string?)group["hooks"]![0]!["type"]);
        }
    }

    [Fact]
    public void Installing_twice_changes_nothing_and_another_per_moves_the_hooks()
    {
        using var sb = new Sandbox();
        string settings = sb.PathIn("settings.json");
        File.WriteAllText(settings, Existing);
        Cli.Run("hook", "install", "claude-code", "--settings", settings, "--per", "tool", "--command", "agentfs").Ok();
        byte[] once = File.ReadAllBytes(settings);
        var again = Cli.Run("hook", "install", "claude-code", "--settings", settings, "--per", "tool", "--command", "agentfs", "--json").Ok();
        Assert.Equal(once, File.ReadAllBytes(settings));
        Assert.False(JsonDocument.Parse(again.Stdout).RootElement.GetProperty("changed").GetBoolean());

        Cli.Run("hook", "install", "claude-code", "--settings", settings, "--command", "agentfs").Ok();
        AssertValidClaudeSettings(settings);
        var hooks = JsonNode.Parse(File.ReadAllText(settings))!["hooks"]!.AsObject();
        Assert.Equal(["Stop", "PreToolUse"], hooks.Select(kv => kv.Key));
        Assert.Equal(2, hooks["Stop"]!.AsArray().Count); // the user's and ours, ours once
        Assert.Equal("agentfs hook run --harness claude-code", (string?)hooks["Stop"]![1]!["hooks"]![0]!["command"]);
    }

    [Theory]
    [InlineData("{ \"hooks\": { \"Stop\": [ }")]
    [InlineData("// a comment\n{}")]
    [InlineData("[1, 2]")]
    [InlineData("{ \"hooks\": [] }")]
    public void Settings_that_are_not_a_json_object_of_hooks_are_refused_and_left_as_they_were(string content)
    {
        using var sb = new Sandbox();
        string settings = sb.PathIn("settings.json");
        File.WriteAllText(settings, content);
        Cli.Run("hook", "install", "claude-code", "--settings", settings, "--command", "agentfs").UserError(settings, "nothing was changed");
        Assert.Equal(content, File.ReadAllText(settings));
        Assert.Equal(["settings.json"], Directory.GetFiles(sb.Root).Select(Path.GetFileName).Where(n => n!.Contains("settings")));
    }

    [Fact]
    public void Hook_install_refuses_a_missing_store_and_a_branch_without_a_store()
    {
        using var sb = new Sandbox();
        string settings = sb.PathIn("settings.json");
        Cli.Run("hook", "install", "claude-code", "--settings", settings, "--store", sb.PathIn("nope.agentfs")).UserError("nope.agentfs", "does not exist");
        Cli.Run("hook", "install", "claude-code", "--settings", settings, "--branch", "main").UserError("--branch needs --store");
        Cli.Run("hook", "install", "claude-code", "--settings", settings, "--store", sb.StorePath, "--branch", "nope").UserError("branch nope");
        Cli.Run("hook", "install", "cursor").UsageError();
        Assert.False(File.Exists(settings));
    }

    // ---- OpenCode ------------------------------------------------------------------------------------

    [Fact]
    public void OpenCode_plugin_type_checks_against_the_plugin_package_and_runs_the_hook_on_its_events()
    {
        string npm = NpmPackages.Ensure();
        using var sb = new Sandbox();
        string project = sb.PathIn("project");
        Directory.CreateDirectory(project);
        // The hook command: a stand-in that keeps each payload it is given on stdin, one per line.
        string payloads = sb.PathIn("payloads.jsonl");
        string fakeHook = sb.PathIn("fake-agentfs");
        File.WriteAllText(fakeHook, $"#!/bin/sh\necho \"$*\" >> {payloads}.args\ncat >> {payloads}\necho >> {payloads}\n");
        File.SetUnixFileMode(fakeHook, (UnixFileMode)Convert.ToInt32("755", 8));

        Cli.Run("hook", "install", "opencode", "--dir", project, "--per", "tool", "--store", sb.StorePath, "--command", fakeHook).Ok();
        string plugin = Path.Combine(project, ".opencode", "plugins", "agentfs-checkpoint.js");
        Assert.True(File.Exists(plugin));
        byte[] once = File.ReadAllBytes(plugin);
        Cli.Run("hook", "install", "opencode", "--dir", project, "--per", "tool", "--store", sb.StorePath, "--command", fakeHook).Ok();
        Assert.Equal(once, File.ReadAllBytes(plugin));

        // tsc: the plugin is a Plugin of @opencode-ai/plugin (its JSDoc type), with strict checking of its JavaScript.
        string check = sb.PathIn("check");
        Directory.CreateDirectory(check);
        File.Copy(plugin, Path.Combine(check, "plugin.js"));
        File.CreateSymbolicLink(Path.Combine(check, "node_modules"), Path.Combine(npm, "node_modules"));
        var tsc = Run(check, "node", Path.Combine(npm, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "--allowJs", "--checkJs", "--strict",
            "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--skipLibCheck", "--types", "node", "plugin.js");
        Assert.True(tsc.Code == 0, "tsc found errors in the plugin:\n" + tsc.Output);

        // node: load it as OpenCode does (an ES module; every export is a plugin) and call its hooks as OpenCode would.
        File.WriteAllText(Path.Combine(check, "harness.mjs"), """
            const mod = await import(process.argv[2]);
            const plugins = Object.values(mod);
            if (plugins.length !== 1) throw new Error("expected one exported plugin");
            const hooks = await plugins[0]({ directory: process.argv[3], worktree: process.argv[3] });
            await hooks["chat.message"]({ sessionID: "ses_1", model: { providerID: "anthropic", modelID: "claude-sonnet-4-5" } },
              { message: {}, parts: [{ type: "text", text: "rename the helper\nand fix tests" }] });
            await hooks["tool.execute.after"]({ tool: "bash", sessionID: "ses_1", callID: "c1" }, { title: "", output: "", metadata: {} });
            await hooks.event({ event: { type: "session.idle", properties: { sessionID: "ses_1" } } });
            await hooks.event({ event: { type: "file.edited", properties: { file: "x" } } });
            """);
        var node = Run(check, "node", "harness.mjs", Path.Combine(check, "plugin.js"), project);
        Assert.True(node.Code == 0, node.Output);

        var lines = File.ReadAllLines(payloads).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count); // the tool call and the end of the turn; the other event runs nothing
        Assert.Equal("tool.execute.after", lines[0].GetProperty("hook_event_name").GetString());
        Assert.Equal("bash", lines[0].GetProperty("tool_name").GetString());
        Assert.Equal("session.idle", lines[1].GetProperty("hook_event_name").GetString());
        foreach (var p in lines)
        {
            Assert.Equal("ses_1", p.GetProperty("session_id").GetString());
            Assert.Equal("anthropic/claude-sonnet-4-5", p.GetProperty("model").GetString());
            Assert.Equal("rename the helper\nand fix tests", p.GetProperty("prompt").GetString());
            Assert.Equal(project, p.GetProperty("cwd").GetString());
        }
        Assert.All(File.ReadAllLines(payloads + ".args"), a => Assert.Equal($"hook run --harness opencode --store {sb.StorePath}", a));
    }

    [Fact]
    public void OpenCode_install_does_not_replace_a_plugin_file_it_did_not_write()
    {
        using var sb = new Sandbox();
        string plugin = sb.PathIn("agentfs-checkpoint.js");
        File.WriteAllText(plugin, "export const Mine = async () => ({});\n");
        Cli.Run("hook", "install", "opencode", "--settings", plugin, "--command", "agentfs").UserError(plugin, "not written by agentfs");
        Assert.Equal("export const Mine = async () => ({});\n", File.ReadAllText(plugin));
    }

    internal static (int Code, string Output) Run(string cwd, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(300_000), $"{file} did not finish in 5 minutes");
        return (p.ExitCode, stdout + stderr.Result);
    }
}

/// <summary>typescript and @opencode-ai/plugin from the npm registry, installed once per machine into a cache
/// directory (AGENTFS_NPM_CACHE, default /tmp/agentfs-test-npm). A failed install fails the test, naming why.</summary>
internal static class NpmPackages
{
    private static readonly Lazy<string> Dir = new(Install);

    public static string Ensure() => Dir.Value;

    private static string Install()
    {
        string dir = Environment.GetEnvironmentVariable("AGENTFS_NPM_CACHE") is { Length: > 0 } d ? d : "/tmp/agentfs-test-npm";
        if (File.Exists(Path.Combine(dir, "node_modules", "@opencode-ai", "plugin", "package.json"))
            && File.Exists(Path.Combine(dir, "node_modules", "typescript", "bin", "tsc"))
            && File.Exists(Path.Combine(dir, "node_modules", "@types", "node", "package.json")))
            return dir;
        Directory.CreateDirectory(dir);
        if (!File.Exists(Path.Combine(dir, "package.json"))) File.WriteAllText(Path.Combine(dir, "package.json"), "{ \"private\": true }\n");
        var r = HookInstallTests.Run(dir, "npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "@opencode-ai/plugin", "typescript", "@types/node");
        Assert.True(r.Code == 0, "npm install of @opencode-ai/plugin, typescript and @types/node failed (the npm registry must be reachable; set AGENTFS_NPM_CACHE to a directory that has them):\n" + r.Output);
        return dir;
    }
}
