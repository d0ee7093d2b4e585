using System.Diagnostics;
using System.Text.Json;

namespace AgentFs.Cli.Hooks;

/// <summary>
/// <c>agentfs hook run [--harness NAME] [--store STORE] [--branch B]</c>: what the harness's hook calls after a
/// turn or a tool call. Reads the harness's JSON on stdin (<see cref="HookPayload"/>), finds the session
/// (<see cref="HookSession"/>) and checkpoints it with the turn's metadata, only when it changed since its last
/// checkpoint (<see cref="AgentStore.CheckpointIfChanged"/>): a turn that only read costs no checkpoint and no
/// fsync. Because the shell commands of a turn change the same filesystem, their changes are in the
/// checkpoint too.
/// <para>
/// It never fails the agent's turn: the exit code is always 0 and stdout stays empty (Claude Code reads a
/// hook's stdout as instructions and treats exit code 2 as "block"); what went wrong is one line on stderr and
/// in the hook log (<see cref="HookLog"/>). Program.Main sends <c>hook run</c> here before the command tree is
/// built, so that none of the other commands' set-up is paid on every turn.
/// </para>
/// </summary>
internal static class HookRunner
{
    /// <summary>The largest stdin read (a PostToolUse payload carries the tool's output).</summary>
    private const int MaxPayloadBytes = 16 << 20;

    /// <summary>Metadata keys a hook checkpoint carries (see the Cli README): trace reads <c>model</c> and
    /// <c>conversation_url</c>.</summary>
    public const string MetaHarness = "harness", MetaSession = "session_id", MetaConversationUrl = "conversation_url",
        MetaModel = "model", MetaTool = "tool", MetaPrompt = "prompt", MetaEvent = "hook_event";

    public static int Run(string[] args, Stream stdin, TextWriter stderr, bool stdinIsTerminal = false)
    {
        long started = Stopwatch.GetTimestamp();
        string harness = "harness";
        try
        {
            string? store = null, branch = null;
            for (int i = 0; i < args.Length; i++)
            {
                string? next = i + 1 < args.Length ? args[i + 1] : null;
                switch (args[i])
                {
                    case "--harness" when next != null: harness = next; i++; break;
                    case "--store" when next != null: store = next; i++; break;
                    case "--branch" or "-b" when next != null: branch = next; i++; break;
                    default: throw new AgentFsException(Errno.EINVAL, $"unknown argument '{args[i]}' of agentfs hook run; reinstall the hook with 'agentfs hook install'");
                }
            }
            var payload = stdinIsTerminal ? new HookPayload() : ReadPayload(stdin, harness, stderr);
            string cwd = payload.Cwd is { Length: > 0 } c && Path.IsPathRooted(c) ? c : Environment.CurrentDirectory;
            Phase(stderr, "payload", started);
            var session = HookSession.Find(store, branch, cwd);
            Phase(stderr, "session", started);
            if (session == null)
            {
                Report(stderr, $"{harness} hook: no agentfs session contains {cwd} (no --store at install, not inside agentfs run, no mount or sandbox there): nothing checkpointed");
                return Program.ExitOk;
            }
            if (harness == HookHarness.ClaudeCode) payload.ReadTranscriptTail();
            var (message, meta) = Describe(harness, payload);
            using var s = AgentStore.Open(session.Store);
            Phase(stderr, "open", started);
            var cp = s.CheckpointIfChanged(session.Branch, message, meta);
            Phase(stderr, "checkpoint", started);
            if (cp != null)
                HookLog.Write($"{harness} {payload.EventName}: checkpoint {cp.Id} of branch {session.Branch} of store {session.Store} ({session.How}) " +
                              $"in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms: {message}");
        }
        catch (AgentFsException e)
        {
            Report(stderr, $"{harness} hook: {e.Message}");
        }
        catch (Exception e)
        {
            Report(stderr, $"{harness} hook: unexpected error: {e.GetType().Name}: {e.Message}" +
                           (Environment.GetEnvironmentVariable("AGENTFS_DEBUG") is "1" or "true" ? "\n" + e : ""));
        }
        return Program.ExitOk;
    }

    private static HookPayload ReadPayload(Stream stdin, string harness, TextWriter stderr)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[64 << 10];
        int n;
        while ((n = stdin.Read(chunk)) > 0)
        {
            if (buffer.Length + n > MaxPayloadBytes) break; // the keys we read come first; the rest is tool output
            buffer.Write(chunk, 0, n);
        }
        try { return HookPayload.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)); }
        catch (JsonException e)
        {
            Report(stderr, $"{harness} hook: its input is not the JSON object a harness sends ({e.Message}); checkpointing without the turn's metadata");
            return new HookPayload();
        }
    }

    /// <summary>The checkpoint's message and metadata for a turn.</summary>
    internal static (string Message, Dictionary<string, string> Meta) Describe(string harness, HookPayload p)
    {
        var meta = new Dictionary<string, string>(StringComparer.Ordinal) { [MetaHarness] = harness };
        if (p.EventName is { Length: > 0 } ev) meta[MetaEvent] = ev;
        if (p.SessionId is { Length: > 0 } id) meta[MetaSession] = id;
        // A conversation's url in Agent Trace must be an absolute URI: Claude Code's transcript file is the conversation.
        if (p.TranscriptPath is { Length: > 0 } t && Path.IsPathRooted(t)) meta[MetaConversationUrl] = new Uri(t).AbsoluteUri;
        if (p.Model is { Length: > 0 } model)
            meta[MetaModel] = model.Contains('/') || harness != HookHarness.ClaudeCode ? model : "anthropic/" + model;
        if (p.ToolName is { Length: > 0 } tool) meta[MetaTool] = tool;
        string? prompt = p.PromptFirstLine();
        if (prompt != null) meta[MetaPrompt] = prompt;
        string what = p.ToolName is { Length: > 0 } tn ? $"after {tn}" : "turn";
        return (prompt != null ? $"{harness} {what}: {prompt}" : $"{harness} {what}", meta);
    }

    private static readonly bool ShowPhases = Environment.GetEnvironmentVariable("AGENTFS_HOOK_TIMES") == "1";

    /// <summary>AGENTFS_HOOK_TIMES=1: the time since start at each phase, on stderr (to see where a slow hook spends it).</summary>
    private static void Phase(TextWriter stderr, string name, long started)
    {
        if (ShowPhases) stderr.WriteLine($"agentfs: hook {name} at {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms");
    }

    private static void Report(TextWriter stderr, string line)
    {
        string? log = HookLog.Write(line);
        try
        {
            stderr.WriteLine("agentfs: " + Program.OneLine(line) + (log != null ? $" (logged in {log})" : ""));
            stderr.Flush();
        }
        catch (IOException) { }
    }
}
