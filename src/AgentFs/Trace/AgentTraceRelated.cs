namespace AgentFs;

/// <summary>Another resource of a conversation (a session, a prompt): a type and an absolute URI.</summary>
public sealed record AgentTraceRelated(string Type, string Url);
