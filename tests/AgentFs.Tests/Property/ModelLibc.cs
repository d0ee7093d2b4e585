using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace AgentFs.Tests.Property;

/// <summary>
/// libc calls for the model side of the differential test: the real Linux file system, whose errno
/// outcomes are the reference. Independent of the library's own interop on purpose.
/// </summary>
internal static partial class ModelLibc
{
    public const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;
    public const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_TRUNC = 0x200, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000;
    public const uint RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2;
    public const uint S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFREG = 0x8000, S_IFLNK = 0xA000;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirfd, string path, int flags, uint mask, byte[] buf);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fchmod(int fd, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint pwrite(int fd, byte[] buf, nuint count, long offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint pread(int fd, byte[] buf, nuint count, long offset);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int truncate(string path, long length);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int renameat2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string oldpath, string newpath);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int symlink(string target, string linkpath);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint readlink(string path, byte[] buf, nuint size);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unlink(string path);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rmdir(string path);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkdir(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int chmod(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lsetxattr(string path, string name, byte[] value, nuint size, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint lgetxattr(string path, string name, byte[]? value, nuint size);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint llistxattr(string path, byte[]? list, nuint size);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lremovexattr(string path, string name);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint realpath(string path, nint resolved);

    [LibraryImport("libc")]
    private static partial void free(nint p);

    /// <summary>realpath(3), or null when the path does not resolve.</summary>
    public static string? RealPath(string path)
    {
        nint r = realpath(path, 0);
        if (r == 0) return null;
        try { return Marshal.PtrToStringUTF8(r); }
        finally { free(r); }
    }

    private static int Err => Marshal.GetLastPInvokeError();
    private static int Check(int rc) => rc < 0 ? Err : 0;

    public readonly record struct Stat(uint Mode, uint Nlink, ulong Ino, long Size, long MtimeNs, long CtimeNs)
    {
        public uint Type => Mode & S_IFMT;
        public bool IsDir => Type == S_IFDIR;
        public bool IsReg => Type == S_IFREG;
        public bool IsLink => Type == S_IFLNK;
    }

    /// <summary>lstat (follow = false) or stat; returns 0 or the errno.</summary>
    public static int TryStat(string path, bool follow, out Stat st)
    {
        var buf = new byte[256];
        if (statx(AT_FDCWD, path, follow ? 0 : AT_SYMLINK_NOFOLLOW, 0x7ff, buf) < 0)
        {
            st = default;
            return Err;
        }
        var s = buf.AsSpan();
        static long Ts(ReadOnlySpan<byte> t) => BinaryPrimitives.ReadInt64LittleEndian(t) * 1_000_000_000L + BinaryPrimitives.ReadUInt32LittleEndian(t[8..]);
        st = new Stat(BinaryPrimitives.ReadUInt16LittleEndian(s[28..]), BinaryPrimitives.ReadUInt32LittleEndian(s[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(s[32..]), BinaryPrimitives.ReadInt64LittleEndian(s[40..]),
            Ts(s[112..]), Ts(s[96..]));
        return 0;
    }

    /// <summary>open(O_WRONLY|O_NOFOLLOW [|O_CREAT|O_TRUNC]) and pwrite; a new file gets exactly newMode.</summary>
    public static int WriteFile(string path, long offset, byte[] data, bool createTruncate, uint newMode)
    {
        bool existed = TryStat(path, false, out _) == 0;
        int flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (createTruncate ? O_CREAT | O_TRUNC : 0);
        int fd = open(path, flags, 0x180);
        if (fd < 0) return Err;
        try
        {
            if (createTruncate && !existed && fchmod(fd, newMode) < 0) return Err;
            long done = 0;
            while (done < data.Length)
            {
                byte[] part = done == 0 ? data : data[(int)done..];
                nint n = pwrite(fd, part, (nuint)part.Length, offset + done);
                if (n < 0) return Err;
                done += n;
            }
            return 0;
        }
        finally { close(fd); }
    }

    public static int ReadAt(string path, long offset, int length, out byte[] data)
    {
        data = [];
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
        if (fd < 0) return Err;
        try
        {
            var buf = new byte[length];
            int done = 0;
            while (done < length)
            {
                var tmp = new byte[length - done];
                nint n = pread(fd, tmp, (nuint)tmp.Length, offset + done);
                if (n < 0) return Err;
                if (n == 0) break;
                Array.Copy(tmp, 0, buf, done, (int)n);
                done += (int)n;
            }
            data = buf[..done];
            return 0;
        }
        finally { close(fd); }
    }

    public static byte[] ReadAll(string path)
    {
        int e = TryStat(path, false, out var st);
        if (e != 0) throw new IOException($"stat {path}: errno {e}");
        e = ReadAt(path, 0, (int)st.Size + 1, out var data);
        if (e != 0) throw new IOException($"read {path}: errno {e}");
        return data;
    }

    public static int Truncate(string path, long size) => Check(truncate(path, size));
    public static int Rename(string from, string to, uint flags) => Check(renameat2(AT_FDCWD, from, AT_FDCWD, to, flags));
    public static int Link(string existing, string newPath) => Check(link(existing, newPath));
    public static int Symlink(string target, string path) => Check(symlink(target, path));
    public static int Unlink(string path) => Check(unlink(path));
    public static int Rmdir(string path) => Check(rmdir(path));
    public static int Mkdir(string path, uint mode) => Check(mkdir(path, mode));
    public static int Chmod(string path, uint mode) => Check(chmod(path, mode));
    public static int SetXattr(string path, string name, byte[] value, int flags) => Check(lsetxattr(path, name, value, (nuint)value.Length, flags));
    public static int RemoveXattr(string path, string name) => Check(lremovexattr(path, name));

    public static string ReadLink(string path)
    {
        var buf = new byte[8192];
        nint n = readlink(path, buf, (nuint)buf.Length);
        if (n < 0) throw new IOException($"readlink {path}: errno {Err}");
        return System.Text.Encoding.UTF8.GetString(buf, 0, (int)n);
    }

    /// <summary>The user.* extended attributes of a path (not following a final symbolic link).</summary>
    public static SortedDictionary<string, byte[]> UserXattrs(string path)
    {
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        nint n = llistxattr(path, null, 0);
        if (n < 0) throw new IOException($"llistxattr {path}: errno {Err}");
        if (n == 0) return result;
        var list = new byte[n + 256];
        n = llistxattr(path, list, (nuint)list.Length);
        if (n < 0) throw new IOException($"llistxattr {path}: errno {Err}");
        foreach (var name in System.Text.Encoding.UTF8.GetString(list, 0, (int)n).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!name.StartsWith("user.", StringComparison.Ordinal)) continue;
            var val = new byte[70000];
            nint m = lgetxattr(path, name, val, (nuint)val.Length);
            if (m < 0) throw new IOException($"lgetxattr {path} {name}: errno {Err}");
            result[name] = val[..(int)m];
        }
        return result;
    }
}
