namespace AgentFs;

/// <summary>type is human, ai, mixed or unknown; ModelId follows models.dev ("provider/model"), at most 250 characters.</summary>
public sealed record AgentTraceContributor(string Type, string? ModelId);
