using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

/// <summary>
/// Fills the reply of one READDIR in place: each <see cref="Add"/> appends a fuse_dirent record until the
/// kernel's buffer is full. The offset given with an entry is where the next READDIR continues, so a
/// directory must be able to resume from any offset it handed out (0 means "from the start").
/// </summary>
public ref struct FuseDirWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    /// <summary>A writer that fills <paramref name="buffer"/> (the reply's payload) from its start.</summary>
    public FuseDirWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _length = 0;
    }

    /// <summary>Bytes written so far: the size of the reply.</summary>
    public readonly int Length => _length;

    /// <summary>True when nothing was added: the reply means end of directory.</summary>
    public readonly bool IsEmpty => _length == 0;

    /// <summary>
    /// Appends one entry. Returns false, writing nothing, when it does not fit: stop there and resume at this
    /// entry's offset next time.
    /// </summary>
    /// <param name="name">Any bytes but '/' and NUL; not empty.</param>
    /// <param name="ino">st_ino shown to user space (d_ino).</param>
    /// <param name="type">DT_* type, see <see cref="TypeFromMode"/>.</param>
    /// <param name="nextOffset">The offset of the entry after this one.</param>
    public bool Add(ReadOnlySpan<byte> name, ulong ino, uint type, long nextOffset)
    {
        FuseDirents.CheckName(name);
        int recordLength = FuseDirents.Align(FuseDirent.NameOffset + name.Length);
        if (_length + recordLength > _buffer.Length)
            return false;
        Span<byte> record = _buffer.Slice(_length, recordLength);
        ref FuseDirent dirent = ref MemoryMarshal.AsRef<FuseDirent>(record);
        dirent.Ino = ino;
        dirent.Off = (ulong)nextOffset;
        dirent.NameLen = (uint)name.Length;
        dirent.Type = type;
        FuseDirents.WriteName(record, FuseDirent.NameOffset, name);
        _length += recordLength;
        return true;
    }

    /// <summary>The DT_* type for a mode: the S_IFMT bits shifted down (DT_REG 8, DT_DIR 4, DT_LNK 10, ...).</summary>
    public static uint TypeFromMode(uint mode) => (mode >> 12) & 0xF;
}

/// <summary>
/// Fills the reply of one READDIRPLUS in place: each entry carries a full lookup reply, so the kernel can
/// populate its dentry and attribute caches without a LOOKUP per name.
/// </summary>
/// <remarks>
/// Every entry added with a non-zero <see cref="FuseEntryOut.NodeId"/> counts as one lookup of that node
/// (the kernel will FORGET it later), except the entries "." and "..", which the kernel does not take a
/// reference on. An entry that <see cref="Add"/> refused was not sent and does not count. An entry with
/// NodeId 0 is listed without being cached.
/// </remarks>
public ref struct FuseDirPlusWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    /// <summary>A writer that fills <paramref name="buffer"/> (the reply's payload) from its start.</summary>
    public FuseDirPlusWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _length = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _length;

    /// <summary>No entry was written yet.</summary>
    public readonly bool IsEmpty => _length == 0;

    /// <summary>
    /// Appends one entry with its lookup reply. Returns false, writing nothing, when it does not fit.
    /// d_ino and the DT_* type are taken from <c>entry.Attr</c>.
    /// </summary>
    public bool Add(ReadOnlySpan<byte> name, in FuseEntryOut entry, long nextOffset)
    {
        FuseDirents.CheckName(name);
        int recordLength = FuseDirents.Align(FuseDirentPlus.NameOffset + name.Length);
        if (_length + recordLength > _buffer.Length)
            return false;
        Span<byte> record = _buffer.Slice(_length, recordLength);
        ref FuseDirentPlus plus = ref MemoryMarshal.AsRef<FuseDirentPlus>(record);
        plus.EntryOut = entry;
        plus.Dirent.Ino = entry.Attr.Ino;
        plus.Dirent.Off = (ulong)nextOffset;
        plus.Dirent.NameLen = (uint)name.Length;
        plus.Dirent.Type = FuseDirWriter.TypeFromMode(entry.Attr.Mode);
        FuseDirents.WriteName(record, FuseDirentPlus.NameOffset, name);
        _length += recordLength;
        return true;
    }

    /// <summary>True if the kernel takes no lookup reference for this name ("." and "..").</summary>
    public static bool IsDotOrDotDot(ReadOnlySpan<byte> name) =>
        name.Length is 1 or 2 && name[0] == (byte)'.' && (name.Length == 1 || name[1] == (byte)'.');
}

internal static class FuseDirents
{
    /// <summary>FUSE_NAME_MAX: the kernel refuses longer names in a directory listing.</summary>
    public const int NameMax = 1024;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Align(int length) => (length + 7) & ~7;

    public static void CheckName(ReadOnlySpan<byte> name)
    {
        // The kernel fails the whole listing with EIO on such a name, so catch it where it is made.
        if (name.IsEmpty || name.Length > NameMax || name.IndexOfAny((byte)'/', (byte)0) >= 0)
            throw new ArgumentException("A directory entry name must be 1 to 1024 bytes without '/' or NUL.", nameof(name));
    }

    public static void WriteName(Span<byte> record, int nameOffset, ReadOnlySpan<byte> name)
    {
        name.CopyTo(record.Slice(nameOffset));
        record.Slice(nameOffset + name.Length).Clear();
    }
}
