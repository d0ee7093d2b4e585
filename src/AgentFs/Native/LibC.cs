using System.Runtime.InteropServices;

namespace AgentFs.Native;

/// <summary>
/// Direct libc calls. Paths are NUL-terminated byte strings because names on Linux are any bytes but
/// '/' and NUL, which .NET strings cannot carry without loss.
/// </summary>
internal static unsafe partial class LibC
{
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_EMPTY_PATH = 0x1000;
    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_TRUNC = 0x200,
        O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000, O_PATH = 0x200000;
    public const uint STATX_BASIC_STATS = 0x7ff;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int statx(int dirfd, byte* path, int flags, uint mask, byte* buf);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int openat(int dirfd, byte* path, int flags, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint pread(int fd, byte* buf, nuint count, long offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sync_file_range(int fd, long offset, long nbytes, uint flags);

    public const uint SYNC_FILE_RANGE_WRITE = 2;

    /// <summary>posix_fadvise: returns 0 or an errno (not -1 and errno).</summary>
    [LibraryImport("libc")]
    public static partial int posix_fadvise(int fd, long offset, long len, int advice);

    public const int POSIX_FADV_WILLNEED = 3;

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint readlinkat(int dirfd, byte* path, byte* buf, nuint size);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint llistxattr(byte* path, byte* list, nuint size);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint lgetxattr(byte* path, byte* name, byte* value, nuint size);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint syscall(nint number, int fd, byte* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int statvfs(byte* path, byte* buf);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int sig);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    [LibraryImport("libc")]
    public static partial uint getegid();

    public const int SYS_getdents64 = 217;
    public const int SYS_openat2 = 437;
    public const ulong RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04, RESOLVE_BENEATH = 0x08;

    /// <summary>struct open_how of openat2(2).</summary>
    public struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial nint syscall_openat2(nint number, int dirfd, byte* path, OpenHow* how, nuint size);

    /// <summary>openat2(2) (Linux 5.6+): the descriptor, or -1 with errno set.</summary>
    public static nint openat2(int dirfd, byte* path, OpenHow* how, nuint size) => syscall_openat2(SYS_openat2, dirfd, path, how, size);

    public static int LastErrno => Marshal.GetLastPInvokeError();
}
