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

    /// <summary>
    /// Decodes what <see cref="SerializeXattrs"/> wrote (a count, then each name as BinaryWriter writes a string and
    /// each value as a length and its bytes), or returns null when the blob is anything else: a count or length that
    /// is negative or runs past the end, a name that is empty, over 255 bytes, not UTF-8 or out of order, or bytes
    /// left over. The blob comes from the store file, which is untrusted.
    /// </summary>
    public static SortedDictionary<string, byte[]>? DeserializeXattrs(ReadOnlySpan<byte> b)
    {
        var r = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        if (b.Length < 4) return null;
        int n = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(b);
        int pos = 4;
        if (n < 0) return null;
        string? previous = null;
        for (int i = 0; i < n; i++)
        {
            // The name's length: 7 bits a byte, low first, at most 5 bytes (BinaryWriter.Write7BitEncodedInt).
            int nameLength = 0, shift = 0;
            while (true)
            {
                if (pos >= b.Length || shift > 28) return null;
                byte x = b[pos++];
                nameLength |= (x & 0x7F) << shift;
                shift += 7;
                if ((x & 0x80) == 0) break;
            }
            if (nameLength is <= 0 or > 255 || b.Length - pos < nameLength + 4) return null;
            var nameBytes = b.Slice(pos, nameLength);
            if (!System.Text.Unicode.Utf8.IsValid(nameBytes)) return null;
            string name = System.Text.Encoding.UTF8.GetString(nameBytes);
            pos += nameLength;
            if (previous != null && string.CompareOrdinal(previous, name) >= 0) return null;
            previous = name;
            int valueLength = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(b[pos..]);
            pos += 4;
            if (valueLength < 0 || b.Length - pos < valueLength) return null;
            r[name] = b.Slice(pos, valueLength).ToArray();
            pos += valueLength;
        }
        return pos == b.Length ? r : null;
    }
}
