using System.Runtime.InteropServices;

namespace AgentFs.Sandbox.Native;

/// <summary>The few libc calls the launcher needs to hand descriptors to its child.</summary>
internal static unsafe partial class SandboxLibc
{
    public const int O_CLOEXEC = 0x80000;
    public const int F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1;
    public const short POLLIN = 0x001;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int sig);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int tcgetpgrp(int fd);

    [LibraryImport("libc")]
    public static partial int getpgrp();

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    public const int R_OK = 4, W_OK = 2;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pidfd_open(int pid, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pidfd_getfd(int pidfd, int targetfd, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int dup3(int oldfd, int newfd, int flags);

    /// <summary>access(2): whether the real user may open the path so (the sandbox's checks before it starts).</summary>
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int access(string path, int mode);

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    public static int LastErrno => Marshal.GetLastPInvokeError();

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
}
