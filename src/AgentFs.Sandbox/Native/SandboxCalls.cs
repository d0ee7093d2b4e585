using System.Runtime.InteropServices;
using AgentFs.Native;
using static AgentFs.Native.LibC;

namespace AgentFs.Sandbox.Native;

/// <summary>
/// The sandbox's helpers over libc: pipes and descriptors handed to the launcher's child, the loopback of a
/// network namespace, the type and real path of host files. The declarations are the library's, in
/// <see cref="LibC"/>: one table.
/// </summary>
internal static unsafe class SandboxCalls
{
    /// <summary>A pipe, both ends close-on-exec.</summary>
    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw new AgentFsException(LastErrno, "cannot create a pipe for the sandbox");
        return (fds[0], fds[1]);
    }

    /// <summary>A pipe whose read end holds <paramref name="data"/> then end-of-file (data must fit the pipe: 64 KiB).</summary>
    public static int PipeWith(ReadOnlySpan<byte> data)
    {
        var (r, w) = Pipe();
        fixed (byte* p = data)
        {
            nint done = 0;
            while (done < data.Length)
            {
                nint n = write(w, p + done, data.Length - done);
                if (n <= 0) { close(r); close(w); throw new AgentFsException(LastErrno, "cannot write the sandbox's data to a pipe"); }
                done += n;
            }
        }
        close(w);
        return r;
    }

    public static void SetInheritable(int fd, bool inheritable) => fcntl(fd, F_SETFD, inheritable ? 0 : FD_CLOEXEC);

    /// <summary>
    /// Makes <paramref name="replaced"/> (close-on-exec) refer to what descriptor <paramref name="targetFd"/> of
    /// process <paramref name="pid"/> refers to (pidfd_getfd, Linux 5.6; the caller must be allowed to ptrace it:
    /// same user, and a child of ours where Yama restricts ptrace). Returns 0 or an errno.
    /// </summary>
    public static int ReplaceWithDescriptorOf(int pid, int targetFd, int replaced)
    {
        int taken = TakeDescriptorOf(pid, targetFd);
        if (taken < 0) return -taken;
        int r = dup3(taken, replaced, O_CLOEXEC);
        int errno = r < 0 ? LastErrno : 0;
        close(taken);
        return errno;
    }

    /// <summary>A new descriptor (close-on-exec) for what descriptor <paramref name="targetFd"/> of process
    /// <paramref name="pid"/> refers to (pidfd_getfd, with the limits of <see cref="ReplaceWithDescriptorOf"/>);
    /// a negative errno when it cannot be taken.</summary>
    public static int TakeDescriptorOf(int pid, int targetFd)
    {
        int pidfd = pidfd_open(pid, 0);
        if (pidfd < 0) return -LastErrno;
        try
        {
            int taken = pidfd_getfd(pidfd, targetFd, 0);
            return taken < 0 ? -LastErrno : taken;
        }
        catch (EntryPointNotFoundException) { return -38; } // ENOSYS: a libc older than 2.36
        finally { close(pidfd); }
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for a line (without its newline); null at end-of-file
    /// or timeout.</summary>
    public static string? ReadLine(int fd, int timeoutMs)
    {
        var sb = new System.Text.StringBuilder();
        var pfd = new PollFd { Fd = fd, Events = POLLIN };
        while (true)
        {
            int r;
            do r = poll(&pfd, 1, timeoutMs);
            while (r < 0 && LastErrno == 4); // EINTR
            if (r <= 0) return null;
            byte b;
            nint n;
            do n = read(fd, &b, 1);
            while (n < 0 && LastErrno == 4);
            if (n != 1) return null;
            if (b == (byte)'\n') return sb.ToString();
            sb.Append((char)b);
        }
    }

    /// <summary>Writes one byte (a go-ahead on a pipe); false when the reader is gone.</summary>
    public static bool WriteByte(int fd, byte value)
    {
        nint n;
        do n = write(fd, &value, 1);
        while (n < 0 && LastErrno == 4);
        return n == 1;
    }


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
