using AgentFs.Overlay;

namespace AgentFs;

public sealed partial class AgentFileSystem
{
    /// <summary>The inode-level operations of this view, named after the system calls (what the FUSE adapter
    /// calls one to one); the path API is on the view itself.</summary>
    public InodeOperations Inodes { get; }

    /// <summary>
    /// A branch seen by inode number, as the kernel sees a file system: each method is one system call (or FUSE
    /// request) of the same name, takes the inode numbers and single names the kernel passes, and fails with an
    /// <see cref="AgentFsException"/> whose <see cref="AgentFsException.Errno"/> is what the call returns. Messages
    /// name the inode or the single name, not a path: a caller that knows the path (the path API of
    /// <see cref="AgentFileSystem"/>) says it. Names are bytes (any but '/' and NUL), as in the kernel.
    /// A lookup hands out an inode the caller may then use by number until it <see cref="Forget"/>s it.
    /// </summary>
    public sealed class InodeOperations
    {
        private readonly AgentFileSystem _fs;

        internal InodeOperations(AgentFileSystem fs) => _fs = fs;

        /// <inheritdoc cref="AgentFileSystem.Lookup(ulong, ReadOnlySpan{byte})"/>
        public InodeAttributes Lookup(ulong parent, ReadOnlySpan<byte> name) => _fs.Lookup(parent, name);

        /// <inheritdoc cref="AgentFileSystem.TryLookup(ulong, ReadOnlySpan{byte}, out InodeAttributes)"/>
        public bool TryLookup(ulong parent, ReadOnlySpan<byte> name, out InodeAttributes attributes) => _fs.TryLookup(parent, name, out attributes);

        /// <inheritdoc cref="AgentFileSystem.Forget(ulong)"/>
        public void Forget(ulong ino) => _fs.Forget(ino);

        /// <summary>getattr (ESTALE when the inode no longer exists).</summary>
        public InodeAttributes GetAttr(ulong ino) => _fs.GetAttr(ino);

        /// <inheritdoc cref="AgentFileSystem.TryGetAttr(ulong, out InodeAttributes)"/>
        public bool TryGetAttr(ulong ino, out InodeAttributes attributes) => _fs.TryGetAttr(ino, out attributes);

        /// <summary>setattr: chmod, chown, truncate, utimens, as the request's fields say.</summary>
        public InodeAttributes SetAttr(ulong ino, SetAttrRequest req, Caller? caller = null) => _fs.SetAttr(ino, req, caller);

        /// <summary>readlink: the target's bytes (EINVAL for an inode that is not a symbolic link).</summary>
        public byte[] ReadLink(ulong ino) => _fs.ReadLink(ino);

        /// <inheritdoc cref="AgentFileSystem.Mknod(ulong, ReadOnlySpan{byte}, uint, ulong, uint, Caller?)"/>
        public InodeAttributes Mknod(ulong parent, ReadOnlySpan<byte> name, uint mode, ulong rdev = 0, uint umask = 0, Caller? caller = null) =>
            _fs.Mknod(parent, name, mode, rdev, umask, caller);

        /// <inheritdoc cref="AgentFileSystem.Create(ulong, ReadOnlySpan{byte}, uint, uint, Caller?)"/>
        public InodeAttributes Create(ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask = 0, Caller? caller = null) =>
            _fs.Create(parent, name, mode, umask, caller);

        /// <inheritdoc cref="AgentFileSystem.Mkdir(ulong, ReadOnlySpan{byte}, uint, uint, Caller?)"/>
        public InodeAttributes Mkdir(ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask = 0, Caller? caller = null) =>
            _fs.Mkdir(parent, name, mode, umask, caller);

        /// <summary>symlink: a new symbolic link name in parent, pointing to target (1 to 4095 bytes, not checked).</summary>
        public InodeAttributes Symlink(ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, Caller? caller = null) =>
            _fs.Symlink(parent, name, target, caller);

        /// <inheritdoc cref="AgentFileSystem.Link(ulong, ulong, ReadOnlySpan{byte}, Caller?)"/>
        public InodeAttributes Link(ulong ino, ulong newParent, ReadOnlySpan<byte> newName, Caller? caller = null) =>
            _fs.Link(ino, newParent, newName, caller);

        /// <summary>unlink: removes a name that is not a directory.</summary>
        public void Unlink(ulong parent, ReadOnlySpan<byte> name, Caller? caller = null) => _fs.Unlink(parent, name, caller);

        /// <summary>rmdir: removes an empty directory.</summary>
        public void Rmdir(ulong parent, ReadOnlySpan<byte> name, Caller? caller = null) => _fs.Rmdir(parent, name, caller);

        /// <inheritdoc cref="AgentFileSystem.Rename(ulong, ReadOnlySpan{byte}, ulong, ReadOnlySpan{byte}, RenameFlags, Caller?)"/>
        public void Rename(ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, RenameFlags flags = RenameFlags.None,
            Caller? caller = null) => _fs.Rename(parent, name, newParent, newName, flags, caller);

        /// <inheritdoc cref="AgentFileSystem.ReadDirectory(ulong)"/>
        public List<DirectoryEntry> ReadDirectory(ulong ino) => _fs.ReadDirectory(ino);

        /// <summary>statfs: sizes and free space of the file system the store is on.</summary>
        public FileSystemStats StatFs() => _fs.StatFs();

        /// <inheritdoc cref="AgentFileSystem.GetXattr(ulong, string)"/>
        public byte[] GetXattr(ulong ino, string name) => _fs.GetXattr(ino, name);

        /// <inheritdoc cref="AgentFileSystem.TryGetXattr(ulong, string)"/>
        public byte[]? TryGetXattr(ulong ino, string name) => _fs.TryGetXattr(ino, name);

        /// <summary>listxattr: the names of the inode's extended attributes, sorted.</summary>
        public IReadOnlyList<string> ListXattr(ulong ino) => _fs.ListXattr(ino);

        /// <inheritdoc cref="AgentFileSystem.SetXattr(ulong, string, ReadOnlySpan{byte}, int, bool, Caller?)"/>
        public void SetXattr(ulong ino, string name, ReadOnlySpan<byte> value, int flags = 0, bool dropSetGid = false, Caller? caller = null) =>
            _fs.SetXattr(ino, name, value, flags, dropSetGid, caller);

        /// <inheritdoc cref="AgentFileSystem.RemoveXattr(ulong, string, Caller?)"/>
        public void RemoveXattr(ulong ino, string name, Caller? caller = null) => _fs.RemoveXattr(ino, name, caller);

        /// <inheritdoc cref="AgentFileSystem.HasXattr(ulong, string)"/>
        public bool HasXattr(ulong ino, string name) => _fs.HasXattr(ino, name);

        /// <inheritdoc cref="AgentFileSystem.KillPrivileges(ulong, bool, Caller?)"/>
        public bool KillPrivileges(ulong ino, bool setIds, Caller? caller = null) => _fs.KillPrivileges(ino, setIds, caller);

        /// <inheritdoc cref="AgentFileSystem.Open(ulong, bool, Caller?)"/>
        public InodeAttributes Open(ulong ino, bool truncate = false, Caller? caller = null) => _fs.Open(ino, truncate, caller);

        /// <inheritdoc cref="AgentFileSystem.TryOpenUntouchedBaseFile(ulong)"/>
        public int TryOpenUntouchedBaseFile(ulong ino) => _fs.TryOpenUntouchedBaseFile(ino);

        /// <inheritdoc cref="AgentFileSystem.Release(ulong)"/>
        public void Release(ulong ino) => _fs.Release(ino);

        /// <summary>fsync(2): everything changed so far (in any file) is durable when this returns.</summary>
        public void Fsync(ulong ino = 0) => _fs.Fsync(ino);

        /// <inheritdoc cref="AgentFileSystem.Read(ulong, long, Span{byte})"/>
        public int Read(ulong ino, long offset, Span<byte> destination) => _fs.Read(ino, offset, destination);

        /// <inheritdoc cref="AgentFileSystem.Write(ulong, long, ReadOnlySpan{byte}, bool, Caller?)"/>
        public int Write(ulong ino, long offset, ReadOnlySpan<byte> data, bool updateTimes = true, Caller? caller = null) =>
            _fs.Write(ino, offset, data, updateTimes, caller);

        /// <inheritdoc cref="AgentFileSystem.Fallocate(ulong, long, long, FallocateMode, Caller?)"/>
        public void Fallocate(ulong ino, long offset, long length, FallocateMode mode = FallocateMode.Allocate, Caller? caller = null) =>
            _fs.Fallocate(ino, offset, length, mode, caller);

        /// <inheritdoc cref="AgentFileSystem.SeekDataOrHole(ulong, long, bool)"/>
        public long SeekDataOrHole(ulong ino, long offset, bool data) => _fs.SeekDataOrHole(ino, offset, data);
    }
}
