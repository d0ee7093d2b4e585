using System.Text.Json.Serialization;

namespace AgentFs.Cli.Output;

/// <summary>One entry of <c>status --json</c>: a mount, or a sandbox of <c>agentfs run</c> listed like a mount (its path
/// inside as mountpoint) with a <c>sandbox</c> object more (absent for a mount).</summary>
internal sealed record StatusJson(string Store, string Branch, string Mountpoint, int Pid, DateTimeOffset Started, bool ReadOnly,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] SandboxStatusJson? Sandbox);

/// <summary>The <c>sandbox</c> object of a <see cref="StatusJson"/>: the command, the network mode, the sandbox's pid.</summary>
internal sealed record SandboxStatusJson(IReadOnlyList<string> Command, string Network, int SandboxPid);
