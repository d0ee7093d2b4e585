namespace AgentFs.Overlay;

/// <summary>The identity of a base file recorded when the store started to depend on its bytes.</summary>
internal readonly record struct BaseIdentity(ulong Dev, ulong Ino, long Size, long MtimeNs, long CtimeNs);

/// <summary>
/// The state of one inode as of one layer (a row of the inodes table). A record that sits in the current
/// memtable is owned by the writer and changed in place under the write lock; every other record is
/// treated as immutable and cloned before a change.
/// </summary>
internal sealed class InodeRecord
{
    public ulong Ino;
    public uint Mode, Uid, Gid, Nlink;
    public ulong Rdev;
    public long Size, AtimeNs, MtimeNs, CtimeNs;
    /// <summary>Base-relative path whose children (directory) or bytes (file) show through; null when none.</summary>
    public byte[]? Origin;
    /// <summary>Bytes of lower layers and of the base at offsets at or above this are hidden (truncate).</summary>
    public long HideFrom = long.MaxValue;
    public BaseIdentity? BaseId;
    public byte[]? Target;
    public SortedDictionary<string, byte[]>? Xattrs;
    public bool XattrsFromBase;

    public bool IsDirectory => PosixMode.IsDirectory(Mode);
    public bool IsRegular => PosixMode.IsRegular(Mode);
    public bool IsSymlink => PosixMode.IsSymlink(Mode);
    public bool HasBaseData => Origin != null && IsRegular && BaseId != null;

    public InodeRecord Clone()
    {
        var r = (InodeRecord)MemberwiseClone();
        if (Xattrs != null) r.Xattrs = new SortedDictionary<string, byte[]>(Xattrs, StringComparer.Ordinal);
        return r;
    }

    public InodeAttributes ToAttributes() => new(Ino, Mode, Nlink, Uid, Gid, Rdev, Size, Size / 512 + (Size % 512 != 0 ? 1 : 0),
        AtimeNs, MtimeNs, CtimeNs);

    public static byte[]? SerializeXattrs(SortedDictionary<string, byte[]>? x)
    {
        if (x == null) return null;
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write(x.Count);
        foreach (var (k, v) in x)
        {
            w.Write(k);
            w.Write(v.Length);
            w.Write(v);
        }
        w.Flush();
        return ms.ToArray();
    }

    public static SortedDictionary<string, byte[]>? DeserializeXattrs(byte[]? b)
    {
        if (b == null) return null;
        var r = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        using var br = new BinaryReader(new MemoryStream(b));
        int n = br.ReadInt32();
        for (int i = 0; i < n; i++)
        {
            string k = br.ReadString();
            int len = br.ReadInt32();
            r[k] = br.ReadBytes(len);
        }
        return r;
    }
}
