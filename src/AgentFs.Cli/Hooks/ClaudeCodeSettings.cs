using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentFs.Cli.Hooks;

/// <summary>
/// Installs the agentfs hook in a Claude Code settings file (<c>.claude/settings.json</c> of the project by
/// default): command hooks under <c>hooks.Stop</c> (after every turn) and, with <c>--per tool</c>, also under
/// <c>hooks.PostToolUse</c> and <c>hooks.PostToolUseFailure</c> (matcher <c>*</c>: a failed shell command may
/// have changed files too), in the format of Claude Code's settings schema (schemastore.org
/// claude-code-settings.json). The file is merged, not replaced: every other key and every other hook stays as
/// it was, in its order. Our entries are recognised by their command (<see cref="IsOurs"/>), so installing again
/// replaces them (idempotent: the same file) and changing <c>--per</c> moves them. A file that is not a JSON
/// object, or whose <c>hooks</c> is not one, is refused and left untouched.
/// </summary>
internal static class ClaudeCodeSettings
{
    public const string TurnEvent = "Stop";
    public static readonly string[] ToolEvents = ["PostToolUse", "PostToolUseFailure"];

    /// <summary>Seconds Claude Code waits for the hook (its default is 600): a checkpoint is milliseconds.</summary>
    public const int TimeoutSeconds = 30;

    /// <summary>Writes the hooks into the file; returns the events configured and whether the file changed.</summary>
    public static (string[] Events, bool Changed) Install(string settingsPath, string hookCommand, string per)
    {
        string[] events = per == HookHarness.PerTool ? [TurnEvent, .. ToolEvents] : [TurnEvent];
        byte[]? before = File.Exists(settingsPath) ? File.ReadAllBytes(settingsPath) : null;
        JsonObject root = Parse(settingsPath, before);
        if (root["hooks"] is null) root["hooks"] = new JsonObject();
        if (root["hooks"] is not JsonObject hooks)
            throw new AgentFsException(Errno.EINVAL, $"\"hooks\" in {settingsPath} is not a JSON object; fix it by hand, nothing was changed");
        foreach (string ev in (string[])[TurnEvent, .. ToolEvents])
        {
            if (hooks[ev] is null) continue;
            if (hooks[ev] is not JsonArray matchers)
                throw new AgentFsException(Errno.EINVAL, $"\"hooks.{ev}\" in {settingsPath} is not a JSON array; fix it by hand, nothing was changed");
            RemoveOurs(matchers);
            if (matchers.Count == 0) hooks.Remove(ev);
        }
        foreach (string ev in events)
        {
            var entry = new JsonObject();
            if (ev != TurnEvent) entry["matcher"] = "*";
            entry["hooks"] = new JsonArray(new JsonObject { ["type"] = "command", ["command"] = hookCommand, ["timeout"] = TimeoutSeconds });
            if (hooks[ev] is JsonArray existing) existing.Add((JsonNode)entry);
            else hooks[ev] = new JsonArray(entry);
        }
        byte[] after = Serialize(root);
        if (before != null && before.AsSpan().SequenceEqual(after)) return (events, false);
        AtomicFile.Write(settingsPath, after);
        return (events, true);
    }

    /// <summary>The settings as a JSON object (an absent or blank file is an empty one).</summary>
    private static JsonObject Parse(string path, byte[]? bytes)
    {
        if (bytes == null || Encoding.UTF8.GetString(bytes).Trim().Length == 0) return new JsonObject();
        JsonNode? node;
        try { node = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow }); }
        catch (JsonException e)
        {
            throw new AgentFsException(Errno.EINVAL, $"{path} is not valid JSON ({Program.OneLine(e.Message)}); fix it or move it away, nothing was changed");
        }
        return node as JsonObject ?? throw new AgentFsException(Errno.EINVAL, $"{path} is not a JSON object; fix it or move it away, nothing was changed");
    }

    /// <summary>Drops our hook commands from an event's matcher groups, and groups left without hooks.</summary>
    private static void RemoveOurs(JsonArray matchers)
    {
        for (int i = matchers.Count - 1; i >= 0; i--)
        {
            if (matchers[i] is not JsonObject group || group["hooks"] is not JsonArray list) continue;
            for (int j = list.Count - 1; j >= 0; j--)
                if (list[j] is JsonObject h && h["command"] is JsonValue v && v.TryGetValue(out string? cmd) && IsOurs(cmd))
                    list.RemoveAt(j);
            if (list.Count == 0) matchers.RemoveAt(i);
        }
    }

    /// <summary>A command that runs agentfs's hook: "... hook run --harness claude-code ...".</summary>
    internal static bool IsOurs(string command) => command.Contains(" hook run --harness " + HookHarness.ClaudeCode, StringComparison.Ordinal);

    private static byte[] Serialize(JsonObject root)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            root.WriteTo(w);
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}
