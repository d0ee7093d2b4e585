using System.Runtime.InteropServices;

namespace AgentFs.Sandbox.Native;

/// <summary>The libc calls behind the network namespace of <c>--net allow=</c> and the socket scan.</summary>
internal static unsafe partial class NetworkLibc
{
    public const int CLONE_NEWNET = 0x40000000;
    public const int O_RDONLY = 0, O_CLOEXEC = 0x80000;
    public const int AF_INET = 2, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000;
    public const uint SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914;
    public const short IFF_UP = 0x1, IFF_RUNNING = 0x40;
    public const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;
    public const uint STATX_TYPE = 0x1;
    public const ushort S_IFMT = 0xF000, S_IFSOCK = 0xC000;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

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
    private static partial nint realpath(string path, nint resolved);

    [LibraryImport("libc")]
    private static partial void free(nint p);

    public static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>The path with every symlink resolved, or null when it does not exist.</summary>
    public static string? RealPath(string path)
    {
        nint p = realpath(path, 0);
        if (p == 0) return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { free(p); }
    }

    /// <summary>The file type bits of <paramref name="path"/> (not following a last symlink), or 0 when it cannot be read.</summary>
    public static ushort FileType(string path)
    {
        byte* buffer = stackalloc byte[256];
        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE, buffer) != 0) return 0;
        return (ushort)(*(ushort*)(buffer + 28) & S_IFMT); // struct statx: stx_mode at offset 28 on every architecture
    }

    /// <summary>Sets the loopback interface of the calling thread's network namespace up (a new one starts down).</summary>
    public static void BringLoopbackUp()
    {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) throw new AgentFsException(LastErrno, "cannot open a socket to set up the sandbox's loopback");
        try
        {
            byte* ifreq = stackalloc byte[40]; // struct ifreq: char ifr_name[16], then a union (ifr_flags: short)
            new Span<byte>(ifreq, 40).Clear();
            "lo"u8.CopyTo(new Span<byte>(ifreq, 16));
            if (ioctl(fd, SIOCGIFFLAGS, ifreq) != 0) throw new AgentFsException(LastErrno, "cannot read the sandbox's loopback flags");
            *(short*)(ifreq + 16) |= IFF_UP | IFF_RUNNING;
            if (ioctl(fd, SIOCSIFFLAGS, ifreq) != 0) throw new AgentFsException(LastErrno, "cannot set the sandbox's loopback up");
        }
        finally { close(fd); }
    }
}
