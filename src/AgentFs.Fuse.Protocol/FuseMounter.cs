using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

/// <summary>
/// Getting a connected /dev/fuse descriptor and giving it back: mount(2) as root, fusermount3 otherwise
/// (it mounts for us and sends the descriptor over a socket, SCM_RIGHTS), and the matching unmounts.
/// </summary>
internal static unsafe class FuseMounter
{
    private const string DevicePath = "/dev/fuse";

    public static int OpenDevice()
    {
        int fd = Libc.Open(DevicePath, Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new FuseException($"Cannot open {DevicePath}: load the fuse module (modprobe fuse) and check its permissions", errno);
        }
        return fd;
    }

    /// <summary>The mount(2) data of a FUSE mount on device descriptor <paramref name="fd"/>, as root mounts it.</summary>
    public static string MountData(int fd, FuseMountOptions options)
    {
        string data = string.Create(CultureInfo.InvariantCulture,
            $"fd={fd},rootmode=40000,user_id={Libc.GetEuid()},group_id={Libc.GetEgid()}");
        if (options.DefaultPermissions)
            data += ",default_permissions";
        if (options.AllowOther)
            data += ",allow_other";
        return data;
    }

    /// <summary>Mounts with mount(2) directly (needs CAP_SYS_ADMIN) and returns the device descriptor.</summary>
    public static int MountDirect(string mountPoint, FuseMountOptions options)
    {
        int fd = OpenDevice();
        string data = MountData(fd, options);
        ulong flags = options.NoSuidNoDev ? Libc.MS_NOSUID | Libc.MS_NODEV : 0;
        if (options.ReadOnly)
            flags |= Libc.MS_RDONLY;
        if (Libc.Mount(options.FsName, mountPoint, "fuse." + options.Subtype, flags, data) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Libc.Close(fd);
            throw new FuseException($"Cannot mount FUSE at {mountPoint}: mount(2) needs root (CAP_SYS_ADMIN) and an existing directory; " +
                "without root, install fuse3 (fusermount3)", errno);
        }
        return fd;
    }

    /// <summary>Mounts through fusermount3, which passes the device descriptor back over a socketpair.</summary>
    public static int MountWithFusermount(string mountPoint, FuseMountOptions options)
    {
        string fusermount = FindFusermount(options);
        string opts = (options.ReadOnly ? "ro" : "rw") + (options.NoSuidNoDev ? ",nosuid,nodev" : "") +
            $",fsname={options.FsName},subtype={options.Subtype}" +
            (options.DefaultPermissions ? ",default_permissions" : "") + (options.AllowOther ? ",allow_other" : "");

        int* pair = stackalloc int[2];
        if (Libc.SocketPair(Libc.AF_UNIX, Libc.SOCK_STREAM, 0, pair) != 0)
            throw new FuseException("Cannot create a socketpair for fusermount3", Marshal.GetLastPInvokeError());
        int ours = pair[0], theirs = pair[1];
        // Our end must not leak into other children; theirs must reach fusermount3.
        Libc.Fcntl(ours, Libc.F_SETFD, Libc.FD_CLOEXEC);
        try
        {
            var start = new ProcessStartInfo(fusermount)
            {
                UseShellExecute = false,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            start.ArgumentList.Add("-o");
            start.ArgumentList.Add(opts);
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(mountPoint);
            start.Environment["_FUSE_COMMFD"] = theirs.ToString(CultureInfo.InvariantCulture);
            using Process process = Process.Start(start)
                ?? throw new FuseException($"Cannot start {fusermount}");
            Libc.Close(theirs);
            theirs = -1;
            string stderr = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new FuseException($"{fusermount} could not mount {mountPoint}: {stderr.Trim()} (exit code {process.ExitCode}); " +
                    "check that the directory exists and is yours, and that /etc/fuse.conf has user_allow_other if allow_other is used");
            int fd = ReceiveFd(ours);
            if (fd < 0)
                throw new FuseException($"{fusermount} mounted {mountPoint} but sent no /dev/fuse descriptor");
            Libc.Fcntl(fd, Libc.F_SETFD, Libc.FD_CLOEXEC);
            return fd;
        }
        finally
        {
            if (theirs >= 0)
                Libc.Close(theirs);
            Libc.Close(ours);
        }
    }

    private static int ReceiveFd(int socket)
    {
        byte data = 0;
        // CMSG_SPACE(sizeof(int)) is 24 on 64-bit Linux: a 16-byte cmsghdr plus the int, aligned to 8.
        byte* control = stackalloc byte[64];
        new Span<byte>(control, 64).Clear();
        var iov = new Libc.IoVec { Base = &data, Length = 1 };
        var message = new Libc.MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = 64 };
        nint received;
        do
        {
            received = Libc.RecvMsg(socket, &message, 0);
        } while (received < 0 && Marshal.GetLastPInvokeError() == LinuxErrno.EINTR);
        if (received <= 0 || message.ControlLen < (nuint)sizeof(Libc.CmsgHdr) + sizeof(int))
            return -1;
        var header = (Libc.CmsgHdr*)control;
        if (header->Level != Libc.SOL_SOCKET || header->Type != Libc.SCM_RIGHTS)
            return -1;
        return *(int*)(control + sizeof(Libc.CmsgHdr));
    }

    private static string FindFusermount(FuseMountOptions options)
    {
        if (options.FusermountPath is { } explicitPath)
            return explicitPath;
        foreach (string name in new[] { "fusermount3", "fusermount" })
            foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':'))
            {
                string candidate = Path.Combine(dir.Length == 0 ? "." : dir, name);
                if (File.Exists(candidate))
                    return candidate;
            }
        throw new FuseException("fusermount3 not found: install the fuse3 package to mount without root, or run as root");
    }

    /// <summary>
    /// Opens a second descriptor on the same connection (ioctl FUSE_DEV_IOC_CLONE), so a reader thread has
    /// its own request queue. Returns the descriptor or a negative errno.
    /// </summary>
    public static int CloneDevice(int fd)
    {
        int clone = Libc.Open(DevicePath, Libc.O_RDWR | Libc.O_CLOEXEC);
        if (clone < 0)
            return -Marshal.GetLastPInvokeError();
        uint source = (uint)fd;
        if (Libc.Ioctl(clone, FuseDeviceIoctl.Clone, &source) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Libc.Close(clone);
            return -errno;
        }
        return clone;
    }

    /// <summary>Detaches the mount: umount2(MNT_DETACH) directly, or fusermount3 -u -z. Returns 0 or an errno.</summary>
    public static int Unmount(string mountPoint, bool viaFusermount, FuseMountOptions options)
    {
        if (!viaFusermount)
            return Libc.Umount2(mountPoint, Libc.MNT_DETACH) == 0 ? 0 : Marshal.GetLastPInvokeError();
        var start = new ProcessStartInfo(FindFusermount(options))
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (string argument in new[] { "-u", "-z", "--", mountPoint })
            start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)!;
        process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? 0 : LinuxErrno.EINVAL;
    }

    /// <summary>
    /// The FUSE connection number of the mount at <paramref name="mountPoint"/> (its device number, the name of
    /// its directory under /sys/fs/fuse/connections), or null when no FUSE mount is there.
    /// </summary>
    public static ulong? FindConnectionId(string mountPoint, string mountInfo = "/proc/self/mountinfo")
    {
        ulong? found = null;
        foreach (string line in File.ReadLines(mountInfo))
        {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            string[] fields = line.Split(' ');
            int dash = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || dash < 0 || dash + 1 >= fields.Length)
                continue;
            if (Unescape(fields[4]) != mountPoint || !fields[dash + 1].StartsWith("fuse", StringComparison.Ordinal))
                continue;
            string[] device = fields[2].Split(':');
            if (device.Length == 2 && ulong.TryParse(device[0], out ulong major) && ulong.TryParse(device[1], out ulong minor))
                found = (major << 20) | minor; // the kernel's internal dev_t encoding, as fusectl names it
        }
        return found;
    }

    /// <summary>
    /// Sets the read-ahead of the mount's backing device (/sys/class/bdi/MAJ:MIN/read_ahead_kb). The kernel
    /// starts a FUSE mount at 128 KiB, so a sequential read of a cold file costs one READ per 128 KiB; a
    /// read-ahead as large as max_pages lets each READ carry 1 MiB. Needs root; returns whether it was set.
    /// </summary>
    public static bool TrySetReadAhead(ulong connectionId, int kilobytes)
    {
        try
        {
            string file = $"/sys/class/bdi/{connectionId >> 20}:{connectionId & 0xFFFFF}/read_ahead_kb";
            if (!File.Exists(file)) return false;
            File.WriteAllText(file, kilobytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Aborts the connection through fusectl (/sys/fs/fuse/connections, mounted here as root if it is not yet,
    /// as systemd does at boot). Blocked readers then get ENODEV; open files on the mount get ENOTCONN.
    /// </summary>
    public static bool TryAbort(ulong connectionId)
    {
        const string connections = "/sys/fs/fuse/connections";
        string abort = $"{connections}/{connectionId}/abort";
        bool mountedHere = false;
        try
        {
            if (!File.Exists(abort) && Libc.GetEuid() == 0 && Directory.Exists(connections) &&
                !Directory.EnumerateFileSystemEntries(connections).Any())
                mountedHere = Libc.Mount("fusectl", connections, "fusectl", 0, "") == 0;
            if (!File.Exists(abort))
                return false;
            File.WriteAllText(abort, "1");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
        finally
        {
            if (mountedHere)
                Libc.Umount2(connections, Libc.MNT_DETACH);
        }
    }

    // /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo.
    private static string Unescape(string field)
    {
        if (!field.Contains('\\'))
            return field;
        var builder = new System.Text.StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length &&
                field.AsSpan(i + 1, 3).IndexOfAnyExceptInRange('0', '7') < 0)
            {
                builder.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                builder.Append(field[i]);
            }
        }
        return builder.ToString();
    }
}
