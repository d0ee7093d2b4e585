namespace AgentFs;

/// <summary>Progress of a long operation: Done of Total items of a phase, and the path being worked on.</summary>
public readonly record struct VersionProgress(string Phase, long Done, long Total, string? Path);
