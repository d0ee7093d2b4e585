using System.Text.Json.Serialization;

namespace AgentFs.Cli.Hooks;

/// <summary>The JSON the hook commands write, generated at build time (no reflection: the program is trimmed/AOT).</summary>
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(HookInstallJson))]
internal sealed partial class HookJson : JsonSerializerContext;

/// <summary><c>agentfs hook install --json</c>.</summary>
internal sealed record HookInstallJson(
    [property: JsonPropertyName("harness")] string Harness,
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("changed")] bool Changed,
    [property: JsonPropertyName("per")] string Per,
    [property: JsonPropertyName("events")] string[] Events,
    [property: JsonPropertyName("command")] string Command,
    [property: JsonPropertyName("store")] string? Store,
    [property: JsonPropertyName("branch")] string? Branch);
