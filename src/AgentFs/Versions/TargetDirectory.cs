using System.Runtime.InteropServices;
using System.Text;
using AgentFs.Native;

namespace AgentFs.Versions;

/// <summary>
/// A directory that apply writes into, reached only through file descriptors: every path is walked one
/// component at a time with openat(O_PATH | O_DIRECTORY | O_NOFOLLOW), so a symlink anywhere in a path
/// (planted before or during the apply) is never followed out of the target; changes are made with the
/// *at calls relative to the parent's descriptor. Only TARGET itself may be a symlink (the user named it).
/// </summary>
internal sealed unsafe partial class TargetDirectory : IDisposable
{
    private readonly int _rootFd;

    public TargetDirectory(string path)
    {
        Root = Path.GetFullPath(path);
        _rootFd = OpenAt(LibC.AT_FDCWD, Encoding.UTF8.GetBytes(Root), LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
        if (_rootFd < 0)
        {
            int e = LibC.LastErrno;
            throw new AgentFsException(e == Errno.ENOENT ? Errno.ENOENT : e == Errno.ENOTDIR ? Errno.ENOTDIR : Errno.EACCES,
                $"target directory {Root} cannot be opened ({Errno.Name(e)}); pass an existing directory");
        }
        var st = BaseDirectory.StatFd(_rootFd);
        Dev = st.Dev;
        Ino = st.Ino;
    }

    public string Root { get; }
    public ulong Dev { get; }
    public ulong Ino { get; }

    public enum Kind { Missing, Directory, File, Symlink, Other }

    /// <summary>What is at a path, and, when a component on the way is not a directory, which one.</summary>
    public readonly record struct Entry(Kind Kind, uint Mode, long Size, byte[]? BlockedAt, Kind BlockedBy)
    {
        public bool Exists => Kind != Kind.Missing;
    }

    /// <summary>lstat of a path inside the target, walking without following any symlink.</summary>
    public Entry Lstat(byte[] path)
    {
        var (parent, name, blockedAt, blockedBy) = WalkToParent(path);
        if (parent < 0) return new Entry(Kind.Missing, 0, 0, blockedAt, blockedBy);
        try
        {
            int fd = OpenAt(parent, name, LibC.O_PATH | LibC.O_NOFOLLOW | LibC.O_CLOEXEC);
            if (fd < 0) return new Entry(Kind.Missing, 0, 0, null, Kind.Missing);
            try
            {
                var st = BaseDirectory.StatFd(fd);
                return new Entry(KindOf(st.Mode), st.Mode, st.Size, null, Kind.Missing);
            }
            finally { LibC.close(fd); }
        }
        finally { if (parent != _rootFd) LibC.close(parent); }
    }

    private static Kind KindOf(uint mode) => (mode & PosixMode.S_IFMT) switch
    {
        PosixMode.S_IFDIR => Kind.Directory,
        PosixMode.S_IFREG => Kind.File,
        PosixMode.S_IFLNK => Kind.Symlink,
        _ => Kind.Other,
    };

    /// <summary>Opens the parent directory of a path (never following a symlink). On failure returns -1 with the
    /// first component that is missing or not a directory.</summary>
    private (int Fd, byte[] Name, byte[]? BlockedAt, Kind BlockedBy) WalkToParent(byte[] path)
    {
        int slash = path.AsSpan().LastIndexOf((byte)'/');
        byte[] name = slash < 0 ? path : path[(slash + 1)..];
        if (slash < 0) return (_rootFd, name, null, Kind.Missing);
        int fd = _rootFd;
        int start = 0;
        while (start < slash)
        {
            int end = path.AsSpan(start, slash - start).IndexOf((byte)'/');
            end = end < 0 ? slash : start + end;
            byte[] comp = path[start..end];
            int next = OpenAt(fd, comp, LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC);
            if (next < 0)
            {
                int e = LibC.LastErrno;
                Kind by = Kind.Missing;
                if (e != Errno.ENOENT)
                {
                    int probe = OpenAt(fd, comp, LibC.O_PATH | LibC.O_NOFOLLOW | LibC.O_CLOEXEC);
                    if (probe >= 0)
                    {
                        by = KindOf(BaseDirectory.StatFd(probe).Mode);
                        LibC.close(probe);
                    }
                }
                if (fd != _rootFd) LibC.close(fd);
                return (-1, name, path[..end], by);
            }
            if (fd != _rootFd) LibC.close(fd);
            fd = next;
            start = end + 1;
        }
        return (fd, name, null, Kind.Missing);
    }

    /// <summary>A descriptor of a directory of the target (O_PATH) for the *at calls; throws when any component
    /// is not a directory (a symlink included).</summary>
    public DirHandle OpenDirectory(byte[] path)
    {
        if (path.Length == 0) return new DirHandle(_rootFd, owned: false);
        var (parent, name, blockedAt, _) = WalkToParent(path);
        if (parent < 0) throw Unsafe(blockedAt!, "is not a directory (or is a symlink, which apply never follows)");
        int fd = OpenAt(parent, name, LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC);
        int e = LibC.LastErrno;
        if (parent != _rootFd) LibC.close(parent);
        if (fd < 0) throw Unsafe(path, $"is not a directory (or is a symlink, which apply never follows) ({Errno.Name(e)})");
        return new DirHandle(fd, owned: true);
    }

    public readonly struct DirHandle : IDisposable
    {
        private readonly bool _owned;
        public DirHandle(int fd, bool owned) { Fd = fd; _owned = owned; }
        public int Fd { get; }
        public void Dispose() { if (_owned) LibC.close(Fd); }
    }

    private AgentFsException Unsafe(byte[] path, string what) =>
        new(Errno.ENOTDIR, $"{Describe(path)} in target {Root} {what}");

    public string Describe(byte[] path) => Encoding.UTF8.GetString(path);

    /// <summary>The names in a directory of the target (without . and ..).</summary>
    public List<byte[]> ListNames(byte[] path)
    {
        using var dir = OpenDirectory(path);
        int fd = OpenAt(dir.Fd, "."u8.ToArray(), LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
        if (fd < 0) throw Failed("list", path);
        var names = new List<byte[]>();
        byte[] buf = new byte[64 * 1024];
        try
        {
            fixed (byte* b = buf)
            {
                while (true)
                {
                    nint n = LibC.syscall(LibC.SYS_getdents64, fd, b, (nuint)buf.Length);
                    if (n < 0) throw Failed("list", path);
                    if (n == 0) break;
                    for (int pos = 0; pos < n;)
                    {
                        ushort reclen = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(buf.AsSpan(pos + 16));
                        var nameSpan = buf.AsSpan(pos + 19, reclen - 19);
                        int len = nameSpan.IndexOf((byte)0);
                        nameSpan = len < 0 ? nameSpan : nameSpan[..len];
                        if (!nameSpan.SequenceEqual("."u8) && !nameSpan.SequenceEqual(".."u8)) names.Add(nameSpan.ToArray());
                        pos += reclen;
                    }
                }
            }
        }
        finally { LibC.close(fd); }
        return names;
    }

    /// <summary>Whether a regular file of the target has exactly this content (read without following symlinks).</summary>
    public bool ContentEquals(byte[] path, long size, Action<Action<ReadOnlySpan<byte>>> produceExpected)
    {
        using var dir = OpenDirectory(Parent(path));
        int fd = OpenAt(dir.Fd, Name(path), LibC.O_RDONLY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC);
        if (fd < 0) return false;
        try
        {
            if (BaseDirectory.StatFd(fd).Size != size) return false;
            long pos = 0;
            bool same = true;
            byte[] buf = new byte[1 << 20];
            produceExpected(expected =>
            {
                if (!same) return;
                for (int done = 0; done < expected.Length;)
                {
                    int want = Math.Min(buf.Length, expected.Length - done);
                    int got = BaseDirectory.Pread(fd, buf.AsSpan(0, want), pos);
                    if (got != want || !buf.AsSpan(0, got).SequenceEqual(expected.Slice(done, want)))
                    {
                        same = false;
                        return;
                    }
                    done += got;
                    pos += got;
                }
            });
            return same && pos == size;
        }
        finally { LibC.close(fd); }
    }

    public byte[] ReadLink(byte[] path)
    {
        using var dir = OpenDirectory(Parent(path));
        byte[] buf = new byte[4096];
        nint n;
        byte[] z = Z(Name(path));
        fixed (byte* p = z)
        fixed (byte* b = buf)
            n = LibC.readlinkat(dir.Fd, p, b, (nuint)buf.Length);
        if (n < 0) throw Failed("read the symlink", path);
        return buf[..(int)n];
    }

    // ---- changes ----------------------------------------------------------------------------------

    /// <summary>Creates a file in a directory of the target with O_EXCL|O_NOFOLLOW and streams content into it;
    /// sets the mode (not subject to the umask) and fsyncs it.</summary>
    public void CreateFile(DirHandle dir, byte[] name, uint mode, Action<Action<ReadOnlySpan<byte>>> produce, byte[] pathForErrors)
    {
        int fd = OpenAt(dir.Fd, name, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0x180);
        if (fd < 0) throw Failed("create", pathForErrors);
        try
        {
            produce(data =>
            {
                fixed (byte* p = data)
                {
                    for (int done = 0; done < data.Length;)
                    {
                        nint n = write(fd, p + done, (nuint)(data.Length - done));
                        if (n < 0)
                        {
                            if (LibC.LastErrno == 4) continue;
                            throw Failed("write", pathForErrors);
                        }
                        done += (int)n;
                    }
                }
            });
            if (fchmod(fd, mode & PosixMode.PermissionMask) != 0) throw Failed("set the mode of", pathForErrors);
            if (LibC.fsync(fd) != 0) throw Failed("sync", pathForErrors);
        }
        finally { LibC.close(fd); }
    }

    public void CreateSymlink(DirHandle dir, byte[] name, byte[] target, byte[] pathForErrors)
    {
        byte[] zt = Z(target), zn = Z(name);
        int rc;
        fixed (byte* t = zt)
        fixed (byte* n = zn)
            rc = symlinkat(t, dir.Fd, n);
        if (rc != 0) throw Failed("create the symlink", pathForErrors);
    }

    /// <summary>rename(2) within the target: atomic replacement of what is at the destination (not a directory).</summary>
    public int Rename(DirHandle fromDir, byte[] fromName, DirHandle toDir, byte[] toName)
    {
        byte[] a = Z(fromName), b = Z(toName);
        fixed (byte* pa = a)
        fixed (byte* pb = b)
            return renameat(fromDir.Fd, pa, toDir.Fd, pb) == 0 ? 0 : LibC.LastErrno;
    }

    public void Unlink(DirHandle dir, byte[] name, bool directory, byte[] pathForErrors)
    {
        byte[] z = Z(name);
        int rc;
        fixed (byte* p = z) rc = unlinkat(dir.Fd, p, directory ? AT_REMOVEDIR : 0);
        if (rc != 0 && LibC.LastErrno != Errno.ENOENT) throw Failed(directory ? "remove the directory" : "delete", pathForErrors);
    }

    public void Mkdir(DirHandle dir, byte[] name, uint mode, byte[] pathForErrors)
    {
        byte[] z = Z(name);
        int rc;
        fixed (byte* p = z) rc = mkdirat(dir.Fd, p, mode);
        if (rc != 0) throw Failed("create the directory", pathForErrors);
    }

    /// <summary>chmod of a file or directory of the target without following a symlink: through an O_PATH
    /// descriptor of the object itself (via /proc/self/fd, as fchmod cannot take an O_PATH descriptor).</summary>
    public void Chmod(byte[] path, uint mode)
    {
        using var dir = OpenDirectory(Parent(path));
        int fd = OpenAt(dir.Fd, Name(path), LibC.O_PATH | LibC.O_NOFOLLOW | LibC.O_CLOEXEC);
        if (fd < 0) throw Failed("set the mode of", path);
        try
        {
            if (PosixMode.IsSymlink(BaseDirectory.StatFd(fd).Mode)) throw Unsafe(path, "became a symlink");
            byte[] proc = Z(Encoding.ASCII.GetBytes($"/proc/self/fd/{fd}"));
            int rc;
            fixed (byte* p = proc) rc = chmod(p, mode & PosixMode.PermissionMask);
            if (rc != 0) throw Failed("set the mode of", path);
        }
        finally { LibC.close(fd); }
    }

    public void SyncDirectory(byte[] path)
    {
        try
        {
            using var dir = OpenDirectory(path);
            int fd = OpenAt(dir.Fd, "."u8.ToArray(), LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
            if (fd < 0) return;
            LibC.fsync(fd);
            LibC.close(fd);
        }
        catch (AgentFsException) { /* the directory was removed by a later change */ }
    }

    private AgentFsException Failed(string what, byte[] path)
    {
        int e = LibC.LastErrno;
        int errno = e switch { Errno.ENOSPC => Errno.ENOSPC, Errno.EACCES or Errno.EPERM => Errno.EACCES, Errno.EROFS => Errno.EROFS, _ => Errno.EIO };
        return new AgentFsException(errno, $"cannot {what} {Describe(path)} in target {Root} ({Errno.Name(e)})");
    }

    public static byte[] Parent(byte[] path)
    {
        int slash = path.AsSpan().LastIndexOf((byte)'/');
        return slash < 0 ? [] : path[..slash];
    }

    public static byte[] Name(byte[] path)
    {
        int slash = path.AsSpan().LastIndexOf((byte)'/');
        return slash < 0 ? path : path[(slash + 1)..];
    }

    private static byte[] Z(byte[] s)
    {
        var z = new byte[s.Length + 1];
        s.CopyTo(z, 0);
        return z;
    }

    private static int OpenAt(int dirFd, byte[] name, int flags, uint mode = 0)
    {
        byte[] z = Z(name);
        fixed (byte* p = z) return LibC.openat(dirFd, p, flags, mode);
    }

    public void Dispose() => LibC.close(_rootFd);

    private const int AT_REMOVEDIR = 0x200;

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, byte* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fchmod(int fd, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int chmod(byte* path, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int renameat(int olddirfd, byte* oldpath, int newdirfd, byte* newpath);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unlinkat(int dirfd, byte* path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mkdirat(int dirfd, byte* path, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int symlinkat(byte* target, int newdirfd, byte* linkpath);
}
