using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace AgentFs.Native;

/// <summary>What lstat says about a base object, with nanosecond times.</summary>
internal readonly record struct BaseStat(ulong Dev, ulong Ino, uint Mode, uint Nlink, uint Uid, uint Gid,
    ulong Rdev, long Size, long Blocks, long AtimeNs, long MtimeNs, long CtimeNs);

/// <summary>
/// Read-only access to the base directory. Invariant: nothing in this type opens, creates or changes
/// anything in the base for writing; every open is O_RDONLY and never follows a final symlink.
/// Paths are base-relative byte strings without a leading '/'; the empty path is the root.
/// </summary>
internal sealed unsafe class BaseDirectory : IDisposable
{
    private const int MaxStackPath = 1024;
    private readonly int _rootFd;
    private readonly byte[] _rootBytes;

    public BaseDirectory(string root)
    {
        Root = Path.GetFullPath(root);
        _rootBytes = Encoding.UTF8.GetBytes(Root);
        byte[] z = new byte[_rootBytes.Length + 1];
        _rootBytes.CopyTo(z, 0);
        fixed (byte* p = z)
            _rootFd = LibC.openat(LibC.AT_FDCWD, p, LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0);
        if (_rootFd < 0)
            throw new AgentFsException(Errno.ENOENT, $"base directory {Root} cannot be opened ({Errno.Name(LibC.LastErrno)}); check that it exists and is a directory");
        if (!TryStat(ReadOnlySpan<byte>.Empty, out var st))
            throw new AgentFsException(Errno.ENOENT, $"base directory {Root} cannot be read");
        RootDev = st.Dev;
        RootIno = st.Ino;
    }

    public string Root { get; }
    public ulong RootDev { get; }
    public ulong RootIno { get; }

    /// <summary>The stable inode number a base object gets: its own st_ino on the base's device.</summary>
    public ulong MapIno(in BaseStat st)
    {
        if (st.Dev == RootDev)
            return st.Ino == RootIno ? InodeNumbers.Root : st.Ino & InodeNumbers.BaseMask;
        ulong h = (st.Dev * 0x9E3779B97F4A7C15UL) ^ st.Ino;
        return InodeNumbers.ForeignDeviceBit | (h & (InodeNumbers.BaseMask >> 2));
    }

    /// <summary>lstat of a base-relative path; false when it does not exist (or a component is not a directory).</summary>
    public bool TryStat(ReadOnlySpan<byte> rel, out BaseStat st)
    {
        byte* buf = stackalloc byte[256];
        int rc;
        byte[]? rented = null;
        Span<byte> z = rel.Length < MaxStackPath ? stackalloc byte[rel.Length + 1] : (rented = ArrayPool<byte>.Shared.Rent(rel.Length + 1));
        rel.CopyTo(z);
        z[rel.Length] = 0;
        fixed (byte* p = z)
            rc = LibC.statx(_rootFd, p, LibC.AT_SYMLINK_NOFOLLOW | (rel.IsEmpty ? LibC.AT_EMPTY_PATH : 0), LibC.STATX_BASIC_STATS, buf);
        if (rented != null) ArrayPool<byte>.Shared.Return(rented);
        if (rc != 0)
        {
            int e = LibC.LastErrno;
            st = default;
            if (e == Errno.ENOENT || e == Errno.ENOTDIR || e == Errno.ENAMETOOLONG) return false;
            throw new AgentFsException(Errno.EIO, $"cannot stat base path {Describe(rel)} ({Errno.Name(e)})");
        }
        st = Parse(new ReadOnlySpan<byte>(buf, 256));
        return true;
    }

    /// <summary>fstat of an open base file.</summary>
    public static BaseStat StatFd(int fd)
    {
        byte* buf = stackalloc byte[256];
        byte empty = 0;
        if (LibC.statx(fd, &empty, LibC.AT_EMPTY_PATH, LibC.STATX_BASIC_STATS, buf) != 0)
            throw new AgentFsException(Errno.EIO, $"cannot stat an open base file ({Errno.Name(LibC.LastErrno)})");
        return Parse(new ReadOnlySpan<byte>(buf, 256));
    }

    private static BaseStat Parse(ReadOnlySpan<byte> s)
    {
        static long Ts(ReadOnlySpan<byte> s, int off) =>
            BinaryPrimitives.ReadInt64LittleEndian(s[off..]) * 1_000_000_000L + BinaryPrimitives.ReadUInt32LittleEndian(s[(off + 8)..]);
        static ulong Dev(ReadOnlySpan<byte> s, int off) => MakeDev(BinaryPrimitives.ReadUInt32LittleEndian(s[off..]), BinaryPrimitives.ReadUInt32LittleEndian(s[(off + 4)..]));
        return new BaseStat(
            Dev: Dev(s, 136),
            Ino: BinaryPrimitives.ReadUInt64LittleEndian(s[32..]),
            Mode: BinaryPrimitives.ReadUInt16LittleEndian(s[28..]),
            Nlink: BinaryPrimitives.ReadUInt32LittleEndian(s[16..]),
            Uid: BinaryPrimitives.ReadUInt32LittleEndian(s[20..]),
            Gid: BinaryPrimitives.ReadUInt32LittleEndian(s[24..]),
            Rdev: Dev(s, 128),
            Size: BinaryPrimitives.ReadInt64LittleEndian(s[40..]),
            Blocks: BinaryPrimitives.ReadInt64LittleEndian(s[48..]),
            AtimeNs: Ts(s, 64), MtimeNs: Ts(s, 112), CtimeNs: Ts(s, 96));
    }

    /// <summary>glibc's makedev encoding of a device number, as st_rdev carries it.</summary>
    public static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) | ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);

    /// <summary>Opens a base file read-only (O_NOFOLLOW); returns the fd or throws.</summary>
    public int OpenRead(ReadOnlySpan<byte> rel)
    {
        int fd;
        byte[]? rented = null;
        Span<byte> z = rel.Length < MaxStackPath ? stackalloc byte[rel.Length + 1] : (rented = ArrayPool<byte>.Shared.Rent(rel.Length + 1));
        rel.CopyTo(z);
        z[rel.Length] = 0;
        fixed (byte* p = z)
            fd = LibC.openat(_rootFd, p, LibC.O_RDONLY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC | (rel.IsEmpty ? LibC.O_DIRECTORY : 0), 0);
        if (rented != null) ArrayPool<byte>.Shared.Return(rented);
        if (fd < 0)
        {
            int e = LibC.LastErrno;
            throw new AgentFsException(e == Errno.ENOENT ? Errno.ESTALE : Errno.EIO,
                $"base file {Describe(rel)} cannot be opened ({Errno.Name(e)}); the base directory changed underneath the store");
        }
        return fd;
    }

    /// <summary>Reads up to buffer.Length bytes at offset; returns the count (0 at end of file).</summary>
    public static int Pread(int fd, Span<byte> buffer, long offset)
    {
        int total = 0;
        fixed (byte* p = buffer)
        {
            while (total < buffer.Length)
            {
                nint n = LibC.pread(fd, p + total, (nuint)(buffer.Length - total), offset + total);
                if (n < 0)
                {
                    int e = LibC.LastErrno;
                    if (e == 4) continue; // EINTR
                    throw new AgentFsException(Errno.EIO, $"reading the base failed ({Errno.Name(e)})");
                }
                if (n == 0) break;
                total += (int)n;
            }
        }
        return total;
    }

    public static void Close(int fd) => LibC.close(fd);

    /// <summary>The entries of a base directory (without . and ..), with their d_type.</summary>
    public List<(byte[] Name, byte Type, ulong Ino)> ReadDirectory(ReadOnlySpan<byte> rel)
    {
        var result = new List<(byte[], byte, ulong)>();
        int fd;
        {
            byte[] z = new byte[rel.Length + 2];
            if (rel.IsEmpty) { z[0] = (byte)'.'; z[1] = 0; }
            else { rel.CopyTo(z); z[rel.Length] = 0; }
            fixed (byte* p = z)
                fd = LibC.openat(_rootFd, p, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0);
        }
        if (fd < 0)
        {
            int e = LibC.LastErrno;
            if (e == Errno.ENOENT || e == Errno.ENOTDIR) return result;
            throw new AgentFsException(Errno.EIO, $"cannot list base directory {Describe(rel)} ({Errno.Name(e)})");
        }
        byte[] buf = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            fixed (byte* b = buf)
            {
                while (true)
                {
                    nint n = LibC.syscall(LibC.SYS_getdents64, fd, b, (nuint)buf.Length);
                    if (n < 0) throw new AgentFsException(Errno.EIO, $"cannot list base directory {Describe(rel)} ({Errno.Name(LibC.LastErrno)})");
                    if (n == 0) break;
                    int pos = 0;
                    while (pos < n)
                    {
                        ushort reclen = BinaryPrimitives.ReadUInt16LittleEndian(buf.AsSpan(pos + 16));
                        byte type = buf[pos + 18];
                        var nameSpan = buf.AsSpan(pos + 19, reclen - 19);
                        int len = nameSpan.IndexOf((byte)0);
                        if (len < 0) len = nameSpan.Length;
                        nameSpan = nameSpan[..len];
                        if (!(nameSpan.SequenceEqual("."u8) || nameSpan.SequenceEqual(".."u8)))
                            result.Add((nameSpan.ToArray(), type, BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(pos))));
                        pos += reclen;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buf);
            LibC.close(fd);
        }
        return result;
    }

    public byte[] ReadLink(ReadOnlySpan<byte> rel)
    {
        byte[] z = new byte[rel.Length + 1];
        rel.CopyTo(z);
        byte[] buf = new byte[4096];
        nint n;
        fixed (byte* p = z)
        fixed (byte* b = buf)
            n = LibC.readlinkat(_rootFd, p, b, (nuint)buf.Length);
        if (n < 0) throw new AgentFsException(Errno.EIO, $"cannot read base symlink {Describe(rel)} ({Errno.Name(LibC.LastErrno)})");
        return buf.AsSpan(0, (int)n).ToArray();
    }

    /// <summary>The extended attributes of a base object (not following symlinks).</summary>
    public SortedDictionary<string, byte[]> ReadXattrs(ReadOnlySpan<byte> rel)
    {
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        byte[] full = FullPath(rel);
        byte[] list = new byte[64 * 1024];
        nint n;
        fixed (byte* p = full)
        fixed (byte* l = list)
            n = LibC.llistxattr(p, l, (nuint)list.Length);
        int start = 0;
        for (int i = 0; i < n; i++)
        {
            if (list[i] != 0) continue;
            if (i > start && ReadXattr(full, list.AsSpan(start, i - start + 1)) is { } value) // the name with its NUL
                result[Encoding.UTF8.GetString(list, start, i - start)] = value;
            start = i + 1;
        }
        return result;
    }

    /// <summary>One extended attribute of a base object (not following symlinks), or null when it has none by that name.</summary>
    public byte[]? ReadXattr(ReadOnlySpan<byte> rel, string name)
    {
        byte[] z = new byte[Encoding.UTF8.GetByteCount(name) + 1];
        Encoding.UTF8.GetBytes(name, z);
        return ReadXattr(FullPath(rel), z);
    }

    /// <summary>lgetxattr of a NUL-terminated path and name: asks the size, then the value (again if it grew).</summary>
    private static byte[]? ReadXattr(byte[] fullPath, ReadOnlySpan<byte> nameZ)
    {
        fixed (byte* p = fullPath)
        fixed (byte* nm = nameZ)
        {
            while (true)
            {
                nint size = LibC.lgetxattr(p, nm, null, 0);
                if (size < 0) return null;
                byte[] value = new byte[size];
                nint n;
                fixed (byte* v = value)
                    n = LibC.lgetxattr(p, nm, v, (nuint)value.Length);
                if (n >= 0) return n == value.Length ? value : value.AsSpan(0, (int)n).ToArray();
                if (LibC.LastErrno != 34) return null; // ERANGE: it grew in between; ask again
            }
        }
    }

    /// <summary>The file system statistics of the base (statvfs f_bsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree).</summary>
    public (ulong Bsize, ulong Blocks, ulong Bfree, ulong Bavail, ulong Files, ulong Ffree) StatFs()
    {
        byte* buf = stackalloc byte[112];
        byte[] full = FullPath(ReadOnlySpan<byte>.Empty);
        int rc;
        fixed (byte* p = full) rc = LibC.statvfs(p, buf);
        if (rc != 0) return (4096, 0, 0, 0, 0, 0);
        ulong* u = (ulong*)buf;
        return (u[0], u[2], u[3], u[4], u[5], u[6]);
    }

    private byte[] FullPath(ReadOnlySpan<byte> rel)
    {
        byte[] z = new byte[_rootBytes.Length + 1 + rel.Length + 1];
        _rootBytes.CopyTo(z, 0);
        int pos = _rootBytes.Length;
        if (!rel.IsEmpty)
        {
            z[pos++] = (byte)'/';
            rel.CopyTo(z.AsSpan(pos));
            pos += rel.Length;
        }
        z[pos] = 0;
        return z;
    }

    public string Describe(ReadOnlySpan<byte> rel) => rel.IsEmpty ? Root : Path.Combine(Root, Encoding.UTF8.GetString(rel));

    public void Dispose() => LibC.close(_rootFd);
}
