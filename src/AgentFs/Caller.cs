namespace AgentFs;

/// <summary>The caller of an operation, recorded in the operation log (FUSE fills it from the request header).</summary>
public readonly record struct Caller(int Pid, uint Uid, uint Gid);
