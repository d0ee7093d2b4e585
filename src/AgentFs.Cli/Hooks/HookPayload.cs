using System.Text;
using System.Text.Json;

namespace AgentFs.Cli.Hooks;

/// <summary>
/// What a harness tells its hook about the turn, read from the JSON it writes on the hook's stdin.
/// <para>
/// Claude Code (every event): <c>session_id</c>, <c>transcript_path</c> (the session's JSONL transcript),
/// <c>cwd</c>, <c>hook_event_name</c> (<c>Stop</c>, <c>PostToolUse</c>, ...); after a tool also
/// <c>tool_name</c>, <c>tool_input</c>, <c>tool_response</c>. The model and the prompt are not in the payload:
/// they are read from the end of the transcript (<see cref="ReadTranscriptTail"/>). OpenCode has no command
/// hooks; the plugin <c>agentfs hook install opencode</c> writes sends the same keys (<c>session_id</c>,
/// <c>hook_event_name</c>, <c>tool_name</c>, <c>cwd</c>) plus <c>model</c> and <c>prompt</c>, which it learns
/// from the <c>chat.message</c> hook. Unknown keys are ignored; a payload that is not JSON gives an empty one
/// (the checkpoint is still taken, without metadata).
/// </para>
/// </summary>
internal sealed class HookPayload
{
    public string? SessionId { get; private set; }
    public string? TranscriptPath { get; private set; }
    public string? Cwd { get; private set; }
    public string? EventName { get; private set; }
    public string? ToolName { get; private set; }
    public string? Model { get; set; }
    public string? Prompt { get; set; }

    /// <summary>The longest prompt line kept in a checkpoint's metadata and message.</summary>
    public const int MaxPromptChars = 200;

    /// <summary>Parses the harness's JSON; throws JsonException when it is not a JSON object.</summary>
    public static HookPayload Parse(ReadOnlySpan<byte> json)
    {
        var p = new HookPayload();
        if (json.Trim((byte)' ').IsEmpty) return p;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = true });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("the hook's input is not a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            string? value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
            switch (name)
            {
                case "session_id" or "sessionID": p.SessionId = value; break;
                case "transcript_path": p.TranscriptPath = value; break;
                case "cwd": p.Cwd = value; break;
                case "hook_event_name": p.EventName = value; break;
                case "tool_name" or "tool": p.ToolName = value; break;
                case "model": p.Model = value; break;
                case "prompt": p.Prompt = value; break;
            }
        }
        return p;
    }

    /// <summary>
    /// Fills the model and the prompt from the end of a Claude Code transcript when the payload has none: the
    /// model of the last assistant message (<c>{"type":"assistant","message":{"model":...}}</c>) and the text of
    /// the last user message a person typed (<c>{"type":"user","message":{"content":"..."}}</c>, a string or
    /// text blocks; tool results and meta messages are not prompts). Reads at most the last 2 MiB.
    /// </summary>
    public void ReadTranscriptTail()
    {
        if (TranscriptPath is not { Length: > 0 } path || (Model != null && Prompt != null)) return;
        byte[] tail;
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            long start = Math.Max(0, f.Length - (2 << 20));
            f.Position = start;
            tail = new byte[f.Length - start];
            f.ReadExactly(tail);
            if (start > 0 && tail.AsSpan().IndexOf((byte)'\n') is int nl and >= 0) tail = tail[(nl + 1)..]; // a cut first line
        }
        catch (Exception) { return; }
        var span = tail.AsSpan();
        while (span.Length > 0 && (Model == null || Prompt == null))
        {
            span = span.TrimEnd((byte)'\n');
            int nl = span.LastIndexOf((byte)'\n');
            var line = span[(nl + 1)..];
            span = nl < 0 ? default : span[..nl];
            try { ReadTranscriptLine(line); }
            catch (JsonException) { } // a line being written, or not ours to understand
        }
    }

    private void ReadTranscriptLine(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty || (line.IndexOf("\"assistant\""u8) < 0 && line.IndexOf("\"user\""u8) < 0)) return;
        using var doc = JsonDocument.Parse(line.ToArray());
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || !root.TryGetProperty("message", out var message)
            || message.ValueKind != JsonValueKind.Object) return;
        if (type.ValueEquals("assistant") && Model == null && message.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String
            && model.GetString() is { Length: > 0 } m && !m.StartsWith('<')) // "<synthetic>": Claude Code's own messages
            Model = m;
        else if (type.ValueEquals("user") && Prompt == null && !(root.TryGetProperty("isMeta", out var meta) && meta.ValueKind == JsonValueKind.True)
            && message.TryGetProperty("content", out var content))
            Prompt = PromptText(content);
    }

    private static string? PromptText(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String) return content.GetString();
        if (content.ValueKind != JsonValueKind.Array) return null;
        var text = new StringBuilder();
        foreach (var block in content.EnumerateArray())
        {
            if (block.ValueKind != JsonValueKind.Object || !block.TryGetProperty("type", out var t)) continue;
            if (t.ValueEquals("tool_result")) return null;
            if (t.ValueEquals("text") && block.TryGetProperty("text", out var s) && s.ValueKind == JsonValueKind.String)
                text.Append(s.GetString()).Append('\n');
        }
        return text.Length > 0 ? text.ToString() : null;
    }

    /// <summary>The first line of the prompt that has text, at most <see cref="MaxPromptChars"/> characters.</summary>
    public string? PromptFirstLine()
    {
        if (Prompt == null) return null;
        foreach (var raw in Prompt.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0) continue;
            return line.Length <= MaxPromptChars ? line : line[..(MaxPromptChars - 1)] + "…";
        }
        return null;
    }
}
