namespace AgentFs;

/// <summary>A branch: a name and its writable top layer.</summary>
public sealed record BranchInfo(string Name, long TopLayer, long? FromCheckpoint, DateTimeOffset Created);
