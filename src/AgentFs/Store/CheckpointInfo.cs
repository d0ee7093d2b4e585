namespace AgentFs;

/// <summary>A sealed state of a branch that can be branched from, rolled back to, diffed and exported.</summary>
public sealed record CheckpointInfo(long Id, string Branch, string? Message, IReadOnlyDictionary<string, string> Meta,
    DateTimeOffset Created, long Layer);
