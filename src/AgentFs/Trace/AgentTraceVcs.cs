namespace AgentFs;

/// <summary>Version control information: type is one of git, jj, hg, svn.</summary>
public sealed record AgentTraceVcs(string Type, string Revision);
