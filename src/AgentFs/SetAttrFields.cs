namespace AgentFs;

/// <summary>Which fields a setattr changes (the FATTR_* valid mask of FUSE, as flags).</summary>
[Flags]
public enum SetAttrFields
{
    None = 0, Mode = 1, Uid = 2, Gid = 4, Size = 8, Atime = 16, Mtime = 32, AtimeNow = 128, MtimeNow = 256, Ctime = 1024,
}
