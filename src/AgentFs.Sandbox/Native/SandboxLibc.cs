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

    /// <summary>Waits up to <paramref name="timeoutMs"/> for one byte or end-of-file; true when a byte came.</summary>
    public static bool ReadByte(int fd, int timeoutMs)
    {
        var pfd = new PollFd { Fd = fd, Events = POLLIN };
        int r;
        do r = poll(&pfd, 1, timeoutMs);
        while (r < 0 && LastErrno == 4); // EINTR
        if (r <= 0) return false;
        byte b;
        nint n;
        do n = read(fd, &b, 1);
        while (n < 0 && LastErrno == 4);
        return n == 1;
    }
}
