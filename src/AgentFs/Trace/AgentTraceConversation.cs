namespace AgentFs;

/// <summary>A conversation: where to look it up (an absolute URI), who contributed, and the line ranges it produced.</summary>
public sealed record AgentTraceConversation(string? Url, AgentTraceContributor? Contributor, IReadOnlyList<AgentTraceRange> Ranges,
    IReadOnlyList<AgentTraceRelated>? Related);
