using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace AgentFs.Native;

/// <summary>What lstat says about a base object, with nanosecond times.</summary>
internal readonly record struct BaseStat(ulong Dev, ulong Ino, uint Mode, uint Nlink, uint Uid, uint Gid,
    ulong Rdev, long Size, long Blocks, long AtimeNs, long MtimeNs, long CtimeNs);

/// <summary>
/// Read-only access to the base directory. Invariant: nothing in this type opens, creates or changes
/// anything in the base for writing; every open is O_RDONLY and never follows a final symlink.
/// Paths are base-relative byte strings without a leading '/'; the empty path is the root.
/// Confinement: a store file is untrusted input, so every access resolves its path with
/// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) from the root's descriptor: nothing
/// outside the base is reached, whether through '..', an absolute path or a directory of the base replaced by
/// a symlink. A path that is not one agentfs writes (absolute, '.', '..' or empty components, NUL) means the
/// store is corrupt and is refused before any system call.
/// </summary>
internal sealed unsafe class BaseDirectory : IDisposable
{
    private const int MaxStackPath = 1024;
    private readonly int _rootFd;
    private readonly byte[] _rootBytes;

    private readonly string _storeForErrors;

    /// <param name="storePath">The store this base belongs to, for error messages.</param>
    public BaseDirectory(string root, string? storePath = null)
    {
        _storeForErrors = storePath ?? "(unknown)";
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

    private long _statCount;

    /// <summary>How many lstats of the base this store made (each is an openat2, a statx and a close): what a
    /// lookup costs the base is a figure the tests keep.</summary>
    internal long StatCount => Interlocked.Read(ref _statCount);

    /// <summary>lstat of a base-relative path; false when it does not exist (or a component is not a directory).</summary>
    public bool TryStat(ReadOnlySpan<byte> rel, out BaseStat st)
    {
        Interlocked.Increment(ref _statCount);
        byte* buf = stackalloc byte[256];
        int rc;
        byte[]? rented = null;
        Span<byte> z = rel.Length < MaxStackPath ? stackalloc byte[rel.Length + 1] : (rented = ArrayPool<byte>.Shared.Rent(rel.Length + 1));
        rel.CopyTo(z);
        z[rel.Length] = 0;
        CheckPath(rel);
        byte empty = 0;
        if (rel.IsEmpty)
            rc = LibC.statx(_rootFd, &empty, LibC.AT_EMPTY_PATH, LibC.STATX_BASIC_STATS, buf);
        else
        {
            int fd;
            fixed (byte* p = z) fd = OpenBeneath(p, LibC.O_PATH | LibC.O_NOFOLLOW | LibC.O_CLOEXEC);
            rc = fd < 0 ? -1 : LibC.statx(fd, &empty, LibC.AT_EMPTY_PATH, LibC.STATX_BASIC_STATS, buf);
            int saved = LibC.LastErrno;
            if (fd >= 0) LibC.close(fd);
            if (rc != 0) Marshal.SetLastPInvokeError(saved);
        }
        if (rented != null) ArrayPool<byte>.Shared.Return(rented);
        if (rc != 0)
        {
            int e = LibC.LastErrno;
            st = default;
            if (e == Errno.ENOENT || e == Errno.ENOTDIR || e == Errno.ENAMETOOLONG) return false;
            throw AccessError(rel, "stat", e);
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

    internal static BaseStat Parse(ReadOnlySpan<byte> s)
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
        CheckPath(rel);
        if (rel.IsEmpty) { z = ".\0"u8.ToArray(); }
        fixed (byte* p = z)
            fd = OpenBeneath(p, LibC.O_RDONLY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC | (rel.IsEmpty ? LibC.O_DIRECTORY : 0));
        if (rented != null) ArrayPool<byte>.Shared.Return(rented);
        if (fd < 0)
        {
            int e = LibC.LastErrno;
            if (e == Errno.ENOENT || e == Errno.ENOTDIR)
                throw new AgentFsException(Errno.ESTALE,
                    $"base file {Describe(rel)} cannot be opened ({Errno.Name(e)}); the base directory changed underneath the store");
            throw AccessError(rel, "open", e);
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
            CheckPath(rel);
            fixed (byte* p = z)
                fd = OpenBeneath(p, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC);
        }
        if (fd < 0)
        {
            int e = LibC.LastErrno;
            if (e == Errno.ENOENT || e == Errno.ENOTDIR) return result;
            throw AccessError(rel, "list", e);
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
        CheckPath(rel);
        byte[] buf = new byte[4096];
        nint n;
        int fd;
        fixed (byte* p = z) fd = OpenBeneath(p, LibC.O_PATH | LibC.O_NOFOLLOW | LibC.O_CLOEXEC);
        if (fd < 0) throw AccessError(rel, "read the symlink", LibC.LastErrno);
        byte empty = 0;
        fixed (byte* b = buf)
            n = LibC.readlinkat(fd, &empty, b, (nuint)buf.Length);
        int e = LibC.LastErrno;
        LibC.close(fd);
        if (n < 0) throw AccessError(rel, "read the symlink", e);
        return buf.AsSpan(0, (int)n).ToArray();
    }

    /// <summary>The extended attributes of a base object (not following symlinks).</summary>
    public SortedDictionary<string, byte[]> ReadXattrs(ReadOnlySpan<byte> rel)
    {
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        using var held = HoldParent(rel, out byte[] full);
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
        using var held = HoldParent(rel, out byte[] full);
        return ReadXattr(full, z);
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

    /// <summary>A descriptor that keeps the parent directory of a base path (opened beneath the root, following no
    /// symlink), and a NUL-terminated path to the object through it (/proc/self/fd/N/name) for the l*xattr calls,
    /// which take no directory descriptor.</summary>
    private FdHolder HoldParent(ReadOnlySpan<byte> rel, out byte[] path)
    {
        CheckPath(rel);
        int slash = rel.LastIndexOf((byte)'/');
        ReadOnlySpan<byte> parent = slash < 0 ? "."u8 : rel[..slash];
        ReadOnlySpan<byte> name = rel.IsEmpty ? "."u8 : slash < 0 ? rel : rel[(slash + 1)..];
        byte[] z = new byte[parent.Length + 1];
        parent.CopyTo(z);
        int fd;
        fixed (byte* p = z) fd = OpenBeneath(p, LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC);
        if (fd < 0) throw AccessError(rel, "read the extended attributes of", LibC.LastErrno);
        byte[] prefix = Encoding.ASCII.GetBytes($"/proc/self/fd/{fd}/");
        path = new byte[prefix.Length + name.Length + 1];
        prefix.CopyTo(path, 0);
        name.CopyTo(path.AsSpan(prefix.Length));
        return new FdHolder(fd);
    }

    private readonly struct FdHolder(int fd) : IDisposable
    {
        public void Dispose() => LibC.close(fd);
    }

    /// <summary>openat2 beneath the root: no '..' out of it, no symlink or magic link anywhere in the path (the
    /// final one is opened itself with O_PATH | O_NOFOLLOW, refused otherwise).</summary>
    private int OpenBeneath(byte* path, int flags)
    {
        LibC.OpenHow how = new() { Flags = (ulong)flags, Mode = 0, Resolve = LibC.RESOLVE_BENEATH | LibC.RESOLVE_NO_SYMLINKS | LibC.RESOLVE_NO_MAGICLINKS };
        return (int)LibC.openat2(_rootFd, path, &how, (nuint)sizeof(LibC.OpenHow));
    }

    /// <summary>
    /// A base path as agentfs writes it: relative, '/'-separated, no empty, '.' or '..' component, no NUL.
    /// Anything else came from a damaged or hostile store file and is never handed to the kernel.
    /// </summary>
    private void CheckPath(ReadOnlySpan<byte> rel)
    {
        int start = 0;
        for (int i = 0; i <= rel.Length; i++)
        {
            if (i < rel.Length && rel[i] != (byte)'/')
            {
                if (rel[i] == 0) throw CorruptOrigin(rel);
                continue;
            }
            int len = i - start;
            if (rel.Length > 0 && (len == 0 || (len == 1 && rel[start] == (byte)'.') || (len == 2 && rel[start] == (byte)'.' && rel[start + 1] == (byte)'.')))
                throw CorruptOrigin(rel);
            start = i + 1;
        }
    }

    /// <summary>The store holds a base path agentfs never writes: the store file is corrupt (or was edited).</summary>
    private AgentFsException CorruptOrigin(ReadOnlySpan<byte> rel) =>
        AgentFs.Store.StoreCorruption.Error(_storeForErrors, $"it refers to base path '{AgentFs.Store.StoreCorruption.Show(rel, 4096)}', " +
            $"which is not a plain path below the base {Root} (absolute, '.', '..' or empty components); nothing outside the base is read");

    /// <summary>An error reaching a base path: permission, an escape attempt refused by the kernel, or I/O.</summary>
    private AgentFsException AccessError(ReadOnlySpan<byte> rel, string what, int e) => e switch
    {
        Errno.EACCES or Errno.EPERM => new(Errno.EACCES,
            $"permission denied ({Errno.Name(e)}) to {what} base path {Describe(rel)}; the user serving store {_storeForErrors} cannot read it there"),
        Errno.ELOOP or Errno.EXDEV => new(Errno.EIO,
            $"base path {Describe(rel)} of store {_storeForErrors} leads through a symlink or out of the base ({Errno.Name(e)}); it is not followed: " +
            "a directory of the base was replaced by a symlink, or the store is corrupt (restore it from a backup: agentfs restore BACKUP STORE)"),
        _ => new(Errno.EIO, $"cannot {what} base path {Describe(rel)} ({Errno.Name(e)})"),
    };

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
