using System.Runtime.InteropServices;

namespace AgentFs.Native;

/// <summary>
/// Direct libc calls: the one table of the library and of the projects over it (the FUSE adapter, the sandbox).
/// The raw FUSE protocol keeps its own few (AgentFs.Fuse.Protocol's Libc), since it must not depend on AgentFs.
/// Store paths are NUL-terminated byte strings because names on Linux are any bytes but '/' and NUL, which
/// .NET strings cannot carry without loss; host paths the sandbox resolves (its own settings) are strings.
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

    // The sandbox (AgentFs.Sandbox): descriptors handed to the launcher's child, the terminal, namespaces,
    // the loopback of a network namespace, the scan of host sockets.

    public const int F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1;
    public const short POLLIN = 0x001;
    public const int R_OK = 4, W_OK = 2;
    public const int CLONE_NEWNET = 0x40000000;
    public const int AF_INET = 2, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000;
    public const uint SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914;
    public const short IFF_UP = 0x1, IFF_RUNNING = 0x40;
    public const uint STATX_TYPE = 0x1;
    public const ushort S_IFMT = 0xF000, S_IFSOCK = 0xC000;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int tcgetpgrp(int fd);

    [LibraryImport("libc")]
    public static partial int getpgrp();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pidfd_open(int pid, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pidfd_getfd(int pidfd, int targetfd, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int dup3(int oldfd, int newfd, int flags);

    /// <summary>access(2): whether the real user may open the path so (the sandbox's checks before it starts).</summary>
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int access(string path, int mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int unshare(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setns(int fd, int nstype);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, byte* arg);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint realpath(string path, nint resolved);

    [LibraryImport("libc")]
    public static partial void free(nint p);
}
