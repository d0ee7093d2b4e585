namespace AgentFs;

/// <summary>A setattr request; only the fields named in <see cref="Fields"/> are applied.</summary>
public record struct SetAttrRequest(SetAttrFields Fields, uint Mode = 0, uint Uid = 0, uint Gid = 0, long Size = 0,
    long AtimeNs = 0, long MtimeNs = 0, long CtimeNs = 0);
