namespace AgentFs.Fuse.Protocol;

/// <summary>
/// A filesystem served over the raw FUSE protocol by <see cref="FuseSession"/>. One method per request,
/// named after the system call behind it.
/// </summary>
/// <remarks>
/// <para><b>Errors.</b> Every method returns 0 on success or a positive Linux errno (ENOENT = 2, EIO = 5,
/// ...); the session sends it back negated. No exception should escape: one that does is logged and
/// answered with EIO. Methods not implemented answer ENOSYS, which the kernel remembers for flush, fsync,
/// access, xattrs, fallocate, lseek and copy_file_range and stops asking.</para>
/// <para><b>Outputs.</b> Replies are written in place: <c>ref</c> structs point into the reply buffer,
/// zeroed before the call, and spans are slices of it. Nothing per request is allocated by the session;
/// implementations of the hot paths (Lookup, GetAttr, Read, Write) should not allocate either.</para>
/// <para><b>Threads.</b> Several threads call concurrently, also for the same node and the same directory
/// (FUSE_PARALLEL_DIROPS), and for the same file (FUSE_ASYNC_READ). The implementation does its own
/// locking.</para>
/// <para><b>Node ids and lookup counts.</b> Node id 1 is the root. Each successful reply that carries an
/// entry (Lookup, Mknod, Mkdir, Symlink, Link, Create, and each ReadDirPlus entry other than "." and "..")
/// adds one to the kernel's lookup count of that node; Forget/BatchForget subtract. A node id must stay
/// valid while its count is above zero, even after unlink.</para>
/// <para><b>Names</b> are the raw bytes of one path component (never '/', never NUL, never empty).</para>
/// <para><b>Caching.</b> <see cref="FuseEntryOut"/> and <see cref="FuseAttrOut"/> carry timeouts for which
/// the kernel trusts names and attributes without asking again; with the writeback cache it also owns file
/// size and mtime of files being written. Invalidate explicitly with <see cref="FuseSession.NotifyInvalEntry"/>,
/// <see cref="FuseSession.NotifyInvalInode"/> and <see cref="FuseSession.NotifyDelete"/> when the tree changes
/// behind the kernel's back.</para>
/// </remarks>
public interface IFuseFileSystem
{
    /// <summary>
    /// Called once the connection is negotiated, before the INIT reply is sent. A non-zero errno fails the
    /// mount.
    /// </summary>
    int Init(FuseConnectionInfo connection) => 0;

    /// <summary>Called once when the session ends (unmount, DESTROY, or abort); no request follows.</summary>
    void Destroy() { }

    /// <summary>
    /// Resolves <paramref name="name"/> in directory <paramref name="parent"/>. On success fill
    /// <paramref name="entry"/> (node id, generation, attributes, timeouts). Returning 0 with NodeId 0 is
    /// a negative entry the kernel caches for EntryValid; ENOENT is one it does not cache. With export
    /// support "." and ".." may be asked for.
    /// </summary>
    int Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ref FuseEntryOut entry);

    /// <summary>The kernel dropped <paramref name="nlookup"/> lookups of <paramref name="nodeId"/>. No reply.</summary>
    void Forget(ulong nodeId, ulong nlookup) { }

    /// <summary>Several forgets at once. No reply.</summary>
    void BatchForget(ReadOnlySpan<FuseForgetOne> forgets)
    {
        foreach (ref readonly FuseForgetOne forget in forgets)
            Forget(forget.NodeId, forget.NLookup);
    }

    /// <summary>stat(2). <paramref name="fh"/> is set when the kernel asks through an open file (fstat).</summary>
    int GetAttr(in FuseContext context, ulong nodeId, ulong? fh, ref FuseAttrOut attr);

    /// <summary>
    /// chmod, chown, truncate, utimensat: change the fields named in <c>changes.Valid</c> and reply with the
    /// new attributes.
    /// </summary>
    int SetAttr(in FuseContext context, ulong nodeId, in FuseSetAttrIn changes, ref FuseAttrOut attr) => LinuxErrno.ENOSYS;

    /// <summary>
    /// readlink(2): copy the target (no NUL) into <paramref name="target"/> and set its length. Targets
    /// longer than the span are an error (ENAMETOOLONG).
    /// </summary>
    int ReadLink(in FuseContext context, ulong nodeId, Span<byte> target, out int length)
    {
        length = 0;
        return LinuxErrno.ENOSYS;
    }

    /// <summary>symlink(2): create <paramref name="name"/> in <paramref name="parent"/> pointing to <paramref name="target"/>.</summary>
    int Symlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, ref FuseEntryOut entry) => LinuxErrno.ENOSYS;

    /// <summary>mknod(2) (regular files when create is not implemented, fifos, devices, sockets).</summary>
    int Mknod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, uint umask, ref FuseEntryOut entry) => LinuxErrno.ENOSYS;

    /// <summary>mkdir(2). <paramref name="mode"/> has S_IFDIR set by the session.</summary>
    int Mkdir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, ref FuseEntryOut entry) => LinuxErrno.ENOSYS;

    /// <summary>unlink(2).</summary>
    int Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) => LinuxErrno.ENOSYS;

    /// <summary>rmdir(2).</summary>
    int Rmdir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) => LinuxErrno.ENOSYS;

    /// <summary>
    /// rename(2) / renameat2(2). <paramref name="flags"/> is 0 or RENAME_NOREPLACE, RENAME_EXCHANGE,
    /// RENAME_WHITEOUT (see <see cref="FuseRequestFlags"/>); answer EINVAL for flags not supported.
    /// </summary>
    int Rename(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, uint flags) => LinuxErrno.ENOSYS;

    /// <summary>link(2): a new name <paramref name="newName"/> in <paramref name="newParent"/> for <paramref name="nodeId"/>.</summary>
    int Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, ref FuseEntryOut entry) => LinuxErrno.ENOSYS;

    /// <summary>
    /// open(2) of an existing file. <paramref name="flags"/> are the open flags; with atomic O_TRUNC
    /// negotiated, O_TRUNC (0x200) must be applied here. <paramref name="openFlags"/> are the kernel's
    /// (fuse_open_in.open_flags, e.g. <see cref="FuseRequestFlags.OpenKillSuidGid"/> under
    /// FUSE_HANDLE_KILLPRIV_V2). Fill the file handle and open flags (KeepCache to keep the page cache,
    /// Passthrough with a backing id to bypass the daemon).
    /// </summary>
    int Open(in FuseContext context, ulong nodeId, int flags, uint openFlags, ref FuseOpenOut open)
    {
        return 0;
    }

    /// <summary>open(2) with O_CREAT: create and open <paramref name="name"/> in one step.</summary>
    int Create(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, int flags, uint mode, uint umask, ref FuseEntryOut entry, ref FuseOpenOut open) => LinuxErrno.ENOSYS;

    /// <summary>
    /// read(2): fill <paramref name="buffer"/> (its length is the size asked for) from <paramref name="offset"/>
    /// and set <paramref name="bytesRead"/>; fewer bytes than asked means end of file (unless direct I/O).
    /// </summary>
    int Read(in FuseContext context, ulong nodeId, ulong fh, long offset, Span<byte> buffer, out int bytesRead)
    {
        bytesRead = 0;
        return LinuxErrno.ENOSYS;
    }

    /// <summary>
    /// write(2): store <paramref name="data"/> at <paramref name="offset"/>. With the writeback cache,
    /// writes come from the page cache (<paramref name="writeFlags"/> has <see cref="FuseRequestFlags.WriteCache"/>):
    /// in large chunks, from the kernel rather than the writer (pid 0), on any handle open for the node (the
    /// fh is a guess), and a file opened write-only may also be read to fill partial pages.
    /// </summary>
    int Write(in FuseContext context, ulong nodeId, ulong fh, long offset, ReadOnlySpan<byte> data, uint writeFlags, out int bytesWritten)
    {
        bytesWritten = 0;
        return LinuxErrno.ENOSYS;
    }

    /// <summary>close(2) of one file descriptor (there may be several per open file, after dup).</summary>
    int Flush(in FuseContext context, ulong nodeId, ulong fh, ulong lockOwner) => LinuxErrno.ENOSYS;

    /// <summary>The last reference to an open file is gone. The errno is ignored by the kernel.</summary>
    int Release(in FuseContext context, ulong nodeId, ulong fh, int flags, uint releaseFlags) => 0;

    /// <summary>fsync(2) / fdatasync(2) (<paramref name="dataOnly"/>).</summary>
    int Fsync(in FuseContext context, ulong nodeId, ulong fh, bool dataOnly) => LinuxErrno.ENOSYS;

    /// <summary>opendir(3). Fill the handle; <see cref="FuseOpenFlags.CacheDir"/> lets the kernel cache the listing.</summary>
    int OpenDir(in FuseContext context, ulong nodeId, int flags, ref FuseOpenOut open) => 0;

    /// <summary>
    /// getdents(2): add entries from <paramref name="offset"/> until <see cref="FuseDirWriter.Add"/> says
    /// the buffer is full. Adding nothing means end of directory.
    /// </summary>
    int ReadDir(in FuseContext context, ulong nodeId, ulong fh, long offset, ref FuseDirWriter writer) => LinuxErrno.ENOSYS;

    /// <summary>
    /// getdents(2) with attributes (FUSE_DO_READDIRPLUS). Each added entry with a node id counts as a
    /// lookup, except "." and ".."; see <see cref="FuseDirPlusWriter"/>.
    /// </summary>
    int ReadDirPlus(in FuseContext context, ulong nodeId, ulong fh, long offset, ref FuseDirPlusWriter writer) => LinuxErrno.ENOSYS;

    /// <summary>closedir(3).</summary>
    int ReleaseDir(in FuseContext context, ulong nodeId, ulong fh) => 0;

    /// <summary>fsync(2) of a directory.</summary>
    int FsyncDir(in FuseContext context, ulong nodeId, ulong fh, bool dataOnly) => LinuxErrno.ENOSYS;

    /// <summary>statfs(2).</summary>
    int StatFs(in FuseContext context, ulong nodeId, ref FuseKstatfs stat)
    {
        stat.Bsize = 4096;
        stat.Frsize = 4096;
        stat.NameLen = 255;
        return 0;
    }

    /// <summary>setxattr(2). <paramref name="flags"/> is XATTR_CREATE (1), XATTR_REPLACE (2) or 0.</summary>
    int SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, int flags) => LinuxErrno.ENOSYS;

    /// <summary>
    /// setxattr(2) with the kernel's own flags (fuse_setxattr_in.setxattr_flags, sent with FUSE_SETXATTR_EXT):
    /// <see cref="FuseRequestFlags.SetXattrAclKillSgid"/> asks to clear set-group-id when setting
    /// system.posix_acl_access. The session calls this one; by default it ignores those flags.
    /// </summary>
    int SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, int flags, uint setXattrFlags) =>
        SetXattr(in context, nodeId, name, value, flags);

    /// <summary>
    /// getxattr(2). When <paramref name="value"/> is empty, only set <paramref name="size"/> to the size of
    /// the value. Otherwise copy it and set its size, or answer ERANGE if it does not fit; ENODATA if absent.
    /// </summary>
    int GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value, out int size)
    {
        size = 0;
        return LinuxErrno.ENOSYS;
    }

    /// <summary>
    /// listxattr(2): the names, each followed by NUL. Same size-probe and ERANGE rules as <see cref="GetXattr"/>.
    /// </summary>
    int ListXattr(in FuseContext context, ulong nodeId, Span<byte> list, out int size)
    {
        size = 0;
        return LinuxErrno.ENOSYS;
    }

    /// <summary>removexattr(2).</summary>
    int RemoveXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name) => LinuxErrno.ENOSYS;

    /// <summary>access(2). Not sent when the mount uses default_permissions (the kernel checks the mode).</summary>
    int Access(in FuseContext context, ulong nodeId, int mask) => LinuxErrno.ENOSYS;

    /// <summary>fallocate(2).</summary>
    int Fallocate(in FuseContext context, ulong nodeId, ulong fh, long offset, long length, int mode) => LinuxErrno.ENOSYS;

    /// <summary>lseek(2) with SEEK_DATA (3) or SEEK_HOLE (4); plain seeks never reach the filesystem.</summary>
    int Lseek(in FuseContext context, ulong nodeId, ulong fh, long offset, int whence, out long resultOffset)
    {
        resultOffset = 0;
        return LinuxErrno.ENOSYS;
    }

    /// <summary>copy_file_range(2) between two open files of this filesystem.</summary>
    int CopyFileRange(in FuseContext context, ulong nodeIn, ulong fhIn, long offsetIn, ulong nodeOut, ulong fhOut, long offsetOut, ulong length, ulong flags, out ulong bytesCopied)
    {
        bytesCopied = 0;
        return LinuxErrno.ENOSYS;
    }
}
