namespace AgentFs;

/// <summary>One file (path relative to the tree's root, '/'-separated) and the conversations that produced lines of it.</summary>
public sealed record AgentTraceFile(string Path, IReadOnlyList<AgentTraceConversation> Conversations);
