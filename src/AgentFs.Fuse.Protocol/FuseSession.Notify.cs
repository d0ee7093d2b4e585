using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

// Messages the filesystem sends on its own: cache invalidations, and the passthrough backing files.
public sealed unsafe partial class FuseSession
{
    /// <summary>
    /// Drops the kernel's cached attributes of <paramref name="nodeId"/> and its cached pages from
    /// <paramref name="offset"/> for <paramref name="length"/> bytes (0: to the end). A negative offset drops
    /// only the attributes. Returns 0, ENOENT when the kernel does not have the node, or another errno.
    /// </summary>
    public int NotifyInvalInode(ulong nodeId, long offset = 0, long length = 0)
    {
        FuseNotifyInvalInodeOut body = new() { Ino = nodeId, Off = offset, Len = length };
        return Notify(FuseNotifyCode.InvalInode, 12, &body, sizeof(FuseNotifyInvalInodeOut), default);
    }

    /// <summary>
    /// Drops the kernel's cached name <paramref name="name"/> in <paramref name="parent"/> (and a negative
    /// entry), so the next access looks it up again. With <paramref name="expireOnly"/> the entry is only
    /// marked stale (kernels with FUSE_HAS_EXPIRE_ONLY). Returns 0, ENOENT when the kernel does not have the
    /// parent, or another errno.
    /// </summary>
    /// <remarks>
    /// Do not call this from a request handler of an operation on <paramref name="parent"/>: the kernel holds
    /// the directory lock for that request and the notification waits for it (deadlock). Other threads may
    /// call it at any time.
    /// </remarks>
    public int NotifyInvalEntry(ulong parent, ReadOnlySpan<byte> name, bool expireOnly = false)
    {
        FuseNotifyInvalEntryOut body = new()
        {
            Parent = parent,
            NameLen = (uint)name.Length,
            Flags = expireOnly && HasOffered(FuseInitFlags.HasExpireOnly) ? FuseRequestFlags.NotifyExpireOnly : 0,
        };
        return Notify(FuseNotifyCode.InvalEntry, 12, &body, sizeof(FuseNotifyInvalEntryOut), name);
    }

    /// <summary>
    /// Tells the kernel that <paramref name="name"/> in <paramref name="parent"/>, which was
    /// <paramref name="child"/>, is gone: the entry is dropped and, if the child is a directory someone is
    /// in, it is marked dead. Same return values and deadlock rule as <see cref="NotifyInvalEntry"/>.
    /// </summary>
    public int NotifyDelete(ulong parent, ulong child, ReadOnlySpan<byte> name)
    {
        FuseNotifyDeleteOut body = new() { Parent = parent, Child = child, NameLen = (uint)name.Length };
        return Notify(FuseNotifyCode.Delete, 18, &body, sizeof(FuseNotifyDeleteOut), name);
    }

    private int Notify(FuseNotifyCode code, uint minMinor, void* body, int bodyLength, ReadOnlySpan<byte> name)
    {
        if (_connection is not { } connection)
            return LinuxErrno.EAGAIN;
        if (connection.ProtocolMinor < minMinor)
            return LinuxErrno.ENOSYS;
        if (name.Length > FuseDirents.NameMax)
            return 36; // ENAMETOOLONG
        if (!EnterDevice())
            return LinuxErrno.ENODEV;
        try
        {
            FuseOutHeader header = new()
            {
                Len = (uint)(sizeof(FuseOutHeader) + bodyLength + (code == FuseNotifyCode.InvalInode ? 0 : name.Length + 1)),
                Error = (int)code,
                Unique = 0,
            };
            byte nul = 0;
            fixed (byte* namePointer = name)
            {
                Libc.IoVec* iov = stackalloc Libc.IoVec[4];
                iov[0] = new Libc.IoVec { Base = &header, Length = (nuint)sizeof(FuseOutHeader) };
                iov[1] = new Libc.IoVec { Base = body, Length = (nuint)bodyLength };
                int count = 2;
                if (code != FuseNotifyCode.InvalInode)
                {
                    iov[2] = new Libc.IoVec { Base = namePointer, Length = (nuint)name.Length };
                    iov[3] = new Libc.IoVec { Base = &nul, Length = 1 };
                    count = 4;
                }
                return Libc.Writev(_deviceFd, iov, count) < 0 ? Marshal.GetLastPInvokeError() : 0;
            }
        }
        finally
        {
            ExitDevice();
        }
    }

    private bool HasOffered(FuseInitFlags flag) => _connection is { } c && (c.KernelFlags & flag) == flag;

    /// <summary>
    /// Registers <paramref name="fd"/> (an open regular file, opened for the access the FUSE open asked for)
    /// as a passthrough backing file and returns its id for <see cref="FuseOpenOut.BackingId"/> with
    /// <see cref="FuseOpenFlags.Passthrough"/>. The kernel keeps its own reference: the caller may close
    /// <paramref name="fd"/> afterwards. Needs passthrough granted at INIT and CAP_SYS_ADMIN.
    /// Returns 0 or an errno (EPERM when passthrough is off, EOPNOTSUPP when the kernel lacks it).
    /// </summary>
    public int OpenBacking(int fd, out int backingId)
    {
        backingId = 0;
        if (!EnterDevice())
            return LinuxErrno.ENODEV;
        try
        {
            FuseBackingMap map = new() { Fd = fd };
            int id = Libc.Ioctl(_deviceFd, FuseDeviceIoctl.BackingOpen, &map);
            if (id < 0)
                return Marshal.GetLastPInvokeError();
            backingId = id;
            return 0;
        }
        finally
        {
            ExitDevice();
        }
    }

    /// <inheritdoc cref="OpenBacking(int, out int)"/>
    public int OpenBacking(SafeHandle file, out int backingId)
    {
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            return OpenBacking((int)file.DangerousGetHandle(), out backingId);
        }
        finally
        {
            if (added)
                file.DangerousRelease();
        }
    }

    /// <summary>
    /// Forgets a backing id. Files already opened with it keep their backing file; new opens cannot use it.
    /// Returns 0 or an errno.
    /// </summary>
    public int CloseBacking(int backingId)
    {
        if (!EnterDevice())
            return LinuxErrno.ENODEV;
        try
        {
            uint id = (uint)backingId;
            return Libc.Ioctl(_deviceFd, FuseDeviceIoctl.BackingClose, &id) < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
        finally
        {
            ExitDevice();
        }
    }
}
