namespace AgentFs;

/// <summary>The tool that made the record: name and version (both required by the schema).</summary>
public sealed record AgentTraceTool(string Name, string Version);
