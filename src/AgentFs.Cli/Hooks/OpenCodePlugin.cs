using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AgentFs.Cli.Hooks;

/// <summary>
/// The OpenCode plugin that <c>agentfs hook install opencode</c> writes to <c>.opencode/plugins/agentfs-checkpoint.js</c>
/// of the project (OpenCode loads every .js/.ts file there at start-up). OpenCode has no command hooks: a plugin
/// is a module whose exported functions return hook handlers. Ours remembers, per OpenCode session, the model
/// and the prompt of the last user message (<c>chat.message</c>), and on <c>session.idle</c> (the turn is over)
/// and, with <c>--per tool</c>, on <c>tool.execute.after</c>, runs <c>agentfs hook run --harness opencode</c>
/// with a JSON payload on stdin in the keys Claude Code uses (session_id, hook_event_name, tool_name, cwd) plus
/// model and prompt. It waits for the hook (so the next turn's writes come after the checkpoint) and ignores
/// every failure of it: OpenCode's turn never fails because of agentfs. Plain JavaScript with JSDoc types
/// (checked against @opencode-ai/plugin's <c>Plugin</c> type by the tests), so it needs no build step.
/// </summary>
internal static class OpenCodePlugin
{
    public const string FileName = "agentfs-checkpoint.js";
    public const string Marker = "// agentfs hook: written by 'agentfs hook install opencode'";

    public static string Text(IReadOnlyList<string> hookArgv, string per)
    {
        string argv = JsonSerializer.Serialize(hookArgv.ToArray(), HookJson.Default.StringArray);
        var js = new StringBuilder();
        js.Append(Marker).Append("; reinstalling replaces this file.\n");
        js.Append("""
            // @ts-check
            // After every turn (session.idle) and, with --per tool, every tool call, agentfs checkpoints the session
            // this project runs in, with the turn's metadata: see 'agentfs hook --help'.
            import { spawn } from "node:child_process";

            """);
        js.Append($"const HOOK = {argv};\n");
        js.Append($"const PER_TOOL = {(per == HookHarness.PerTool ? "true" : "false")};\n");
        js.Append("""

            /** Runs the hook with the payload on stdin; resolves when it exits, whatever happens. */
            function runHook(/** @type {Record<string, string | undefined>} */ payload, /** @type {string} */ cwd) {
              return new Promise((resolve) => {
                try {
                  const child = spawn(HOOK[0], HOOK.slice(1), { cwd, stdio: ["pipe", "ignore", "ignore"] });
                  child.on("error", () => resolve(undefined));
                  child.on("close", () => resolve(undefined));
                  child.stdin.on("error", () => {});
                  child.stdin.end(JSON.stringify(payload));
                } catch {
                  resolve(undefined);
                }
              });
            }

            /** @type {import("@opencode-ai/plugin").Plugin} */
            export const AgentFsCheckpoint = async ({ directory }) => {
              /** @type {Map<string, { model?: string, prompt?: string }>} */
              const turns = new Map();
              /** @param {string} sessionID @param {string} event @param {string} [tool] */
              const checkpoint = (sessionID, event, tool) =>
                runHook({ hook_event_name: event, session_id: sessionID, tool_name: tool, cwd: directory, ...turns.get(sessionID) }, directory);
              return {
                "chat.message": async (input, output) => {
                  const model = input.model ? `${input.model.providerID}/${input.model.modelID}` : undefined;
                  let prompt;
                  for (const part of output.parts) if (part.type === "text" && !part.synthetic) { prompt = part.text; break; }
                  turns.set(input.sessionID, { model, prompt });
                },
                "tool.execute.after": async (input) => {
                  if (PER_TOOL) await checkpoint(input.sessionID, "tool.execute.after", input.tool);
                },
                event: async ({ event }) => {
                  if (event.type === "session.idle") await checkpoint(event.properties.sessionID, "session.idle");
                },
              };
            };

            """);
        return js.ToString();
    }

    /// <summary>Writes the plugin file; returns whether it changed. A file of that name not written by us is refused.</summary>
    public static bool Install(string pluginPath, IReadOnlyList<string> hookArgv, string per)
    {
        byte[] text = Encoding.UTF8.GetBytes(Text(hookArgv, per));
        if (File.Exists(pluginPath))
        {
            byte[] before = File.ReadAllBytes(pluginPath);
            if (before.AsSpan().SequenceEqual(text)) return false;
            if (!before.AsSpan().StartsWith(Encoding.UTF8.GetBytes(Marker)))
                throw new AgentFsException(Errno.EEXIST, $"{pluginPath} exists and was not written by agentfs; move it away, nothing was changed");
        }
        AtomicFile.Write(pluginPath, text);
        return true;
    }
}
