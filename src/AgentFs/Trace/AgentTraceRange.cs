namespace AgentFs;

/// <summary>Lines StartLine..EndLine (1-based, inclusive) of the file as it is in the traced state.</summary>
public sealed record AgentTraceRange(int StartLine, int EndLine, string? ContentHash, AgentTraceContributor? Contributor = null);
