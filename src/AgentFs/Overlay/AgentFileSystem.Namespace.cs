using System.Collections.Concurrent;
using System.Text;
using AgentFs.Native;
using AgentFs.Overlay;
using AgentFs.Store;

namespace AgentFs;

public sealed partial class AgentFileSystem
{
    public const int NameMax = 255;
    public const int XattrCreate = 1, XattrReplace = 2;

    /// <summary>lookup: finds name in a directory. The view remembers where a base object it finds lives, so the
    /// inode can be used by number afterwards, until <see cref="Forget"/>. (Counting the kernel's references is the
    /// FUSE adapter's business: it calls Forget when the kernel holds none any more.)</summary>
    private InodeAttributes Lookup(ulong parent, ReadOnlySpan<byte> name) => LookupCore(parent, name, out _).ToAttributes();

    /// <summary>lookup that answers a missing name with false instead of an exception (misses are common:
    /// compilers and git probe many names that do not exist). Other errors still throw.</summary>
    private bool TryLookup(ulong parent, ReadOnlySpan<byte> name, out InodeAttributes attributes)
    {
        var rec = LookupCore(parent, name, out _, throwIfMissing: false);
        attributes = rec?.ToAttributes() ?? default;
        return rec != null;
    }

    private InodeRecord LookupCore(ulong parent, ReadOnlySpan<byte> name, out byte[]? baseOrigin) =>
        LookupCore(parent, name, out baseOrigin, throwIfMissing: true)!;

    private InodeRecord? LookupCore(ulong parent, ReadOnlySpan<byte> name, out byte[]? baseOrigin, bool throwIfMissing)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckName(name, lookup: true);
        var prec = GetRecord(parent);
        if (!prec.IsDirectory) throw new AgentFsException(Errno.ENOTDIR, $"inode {parent} is not a directory");
        byte[] n = name.ToArray();
        if (!TryResolveEntry(parent, prec, n, out ulong ino, out _, out baseOrigin, out var baseStat))
            return throwIfMissing ? throw new AgentFsException(Errno.ENOENT, $"{Encoding.UTF8.GetString(n)} does not exist") : null;
        var rec = FindRecord(ino, baseOrigin, baseStat, haveBaseStat: baseOrigin != null, out _)
            ?? throw new AgentFsException(Errno.ENOENT, $"{Encoding.UTF8.GetString(n)} vanished from the base directory");
        NoteName(ino, parent, n);
        if (baseOrigin != null)
        {
            var ns = _nodes.GetOrAdd(ino, static _ => new NodeState());
            ns.Origin = baseOrigin;
            ns.Held = true;
        }
        return rec;
    }

    /// <summary>forget: no caller holds the inode any more (the FUSE adapter calls this when the kernel's lookup count
    /// drops to zero), so the view may forget where it lives; it keeps that while the inode is open.</summary>
    private void Forget(ulong ino)
    {
        if (ino == InodeNumbers.Root || !_nodes.TryGetValue(ino, out var ns)) return;
        ns.Held = false;
        if (Volatile.Read(ref ns.Opens) <= 0) _nodes.TryRemove(new KeyValuePair<ulong, NodeState>(ino, ns));
    }

    private InodeAttributes GetAttr(ulong ino) => GetRecord(ino).ToAttributes();

    /// <summary>getattr that answers an inode which no longer exists (ESTALE for <see cref="GetAttr"/>) with
    /// false. The kernel asks about unlinked inodes it still caches, e.g. to write back their ctime.</summary>
    private bool TryGetAttr(ulong ino, out InodeAttributes attributes)
    {
        var r = TryGetRecord(ino);
        attributes = r?.ToAttributes() ?? default;
        return r != null;
    }

    private InodeAttributes SetAttr(ulong ino, SetAttrRequest req, Caller? caller = null)
    {
        CheckWritable();
        InodeRecord rec;
        lock (_writeLock)
        {
            rec = RecordForWrite(ino);
            long now = AgentStore.NowNs();
            var f = req.Fields;
            if ((f & SetAttrFields.Mode) != 0)
            {
                rec.Mode = (rec.Mode & PosixMode.S_IFMT) | (req.Mode & PosixMode.PermissionMask);
                // posix_acl_chmod: the owner, group (mask) and other entries of an access ACL are the mode.
                if (!rec.IsSymlink && TryGetXattr(rec, PosixAcl.AccessXattr) is { } acl)
                    ReplaceXattrs(rec, x => x[PosixAcl.AccessXattr] = PosixAcl.Chmod(acl, rec.Mode));
            }
            if ((f & SetAttrFields.Uid) != 0) rec.Uid = req.Uid;
            if ((f & SetAttrFields.Gid) != 0) rec.Gid = req.Gid;
            if ((f & SetAttrFields.Size) != 0)
            {
                if (rec.IsDirectory) throw new AgentFsException(Errno.EISDIR, $"inode {ino} is a directory");
                if (!rec.IsRegular) throw new AgentFsException(Errno.EINVAL, $"inode {ino} is not a regular file");
                if (req.Size < 0) throw new AgentFsException(Errno.EINVAL, "negative size");
                Truncate(ino, rec, req.Size);
                rec.MtimeNs = now;
            }
            if ((f & SetAttrFields.AtimeNow) != 0) rec.AtimeNs = now;
            else if ((f & SetAttrFields.Atime) != 0) rec.AtimeNs = req.AtimeNs;
            if ((f & SetAttrFields.MtimeNow) != 0) rec.MtimeNs = now;
            else if ((f & SetAttrFields.Mtime) != 0) rec.MtimeNs = req.MtimeNs;
            rec.CtimeNs = (f & SetAttrFields.Ctime) != 0 ? req.CtimeNs : now;
            Log("setattr", caller, ino, bytes: (f & SetAttrFields.Size) != 0 ? req.Size : 0);
        }
        AfterWrite();
        return rec.ToAttributes();
    }

    private byte[] ReadLink(ulong ino)
    {
        var rec = GetRecord(ino);
        if (!rec.IsSymlink) throw new AgentFsException(Errno.EINVAL, $"inode {ino} is not a symbolic link");
        return rec.Target ?? _base.ReadLink(rec.Origin!);
    }

    /// <summary>mknod. The umask applies as for <see cref="Create"/>.</summary>
    private InodeAttributes Mknod(ulong parent, ReadOnlySpan<byte> name, uint mode, ulong rdev = 0, uint umask = 0, Caller? caller = null)
    {
        if ((mode & PosixMode.S_IFMT) == 0) mode |= PosixMode.S_IFREG;
        if (PosixMode.IsDirectory(mode) || PosixMode.IsSymlink(mode))
            throw new AgentFsException(Errno.EINVAL, "mknod cannot make directories or symbolic links");
        return CreateNode(parent, name, mode, rdev, null, "mknod", umask, caller);
    }

    /// <summary>create: a new regular file (EEXIST when the name exists). The caller's <paramref name="umask"/>
    /// applies unless the directory has a default ACL, which decides the permissions instead (see
    /// <see cref="PosixAcl"/>); in a set-group-id directory the file takes the directory's group.</summary>
    private InodeAttributes Create(ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask = 0, Caller? caller = null) =>
        CreateNode(parent, name, PosixMode.S_IFREG | (mode & PosixMode.PermissionMask), 0, null, "create", umask, caller);

    /// <summary>mkdir. As <see cref="Create"/>; a new directory also inherits the set-group-id bit and the
    /// default ACL of its parent.</summary>
    private InodeAttributes Mkdir(ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask = 0, Caller? caller = null) =>
        CreateNode(parent, name, PosixMode.S_IFDIR | (mode & PosixMode.PermissionMask), 0, null, "mkdir", umask, caller);

    private InodeAttributes Symlink(ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, Caller? caller = null)
    {
        if (target.IsEmpty || target.Length > 4095 || target.IndexOf((byte)0) >= 0)
            throw new AgentFsException(Errno.EINVAL, "a symbolic link target must be 1 to 4095 bytes without NUL");
        return CreateNode(parent, name, PosixMode.S_IFLNK | 0x1FF, 0, target.ToArray(), "symlink", 0, caller);
    }

    private InodeAttributes CreateNode(ulong parent, ReadOnlySpan<byte> name, uint mode, ulong rdev, byte[]? target, string op, uint umask, Caller? caller)
    {
        CheckWritable();
        CheckName(name, lookup: false);
        byte[] n = name.ToArray();
        InodeRecord rec;
        lock (_writeLock)
        {
            var prec = GetRecord(parent);
            if (!prec.IsDirectory) throw new AgentFsException(Errno.ENOTDIR, $"inode {parent} is not a directory");
            if (TryResolveEntry(parent, prec, n, out _, out _, out _))
                throw new AgentFsException(Errno.EEXIST, $"{Encoding.UTF8.GetString(n)} already exists");
            long now = AgentStore.NowNs();
            bool dir = PosixMode.IsDirectory(mode);
            uint gid = caller?.Gid ?? LibC.getegid();
            // inode_init_owner: a set-group-id directory gives its group, and to a directory also its bit. (The
            // kernel has already dropped S_ISGID from a file whose creator is not in that group.)
            if ((prec.Mode & PosixMode.S_ISGID) != 0)
            {
                gid = prec.Gid;
                if (dir) mode |= PosixMode.S_ISGID;
            }
            var xattrs = target == null ? InheritAcls(prec, dir, ref mode, umask) : null;
            rec = new InodeRecord
            {
                Ino = _store.AllocateIno(), Mode = mode, Rdev = rdev, Target = target,
                Uid = caller?.Uid ?? LibC.geteuid(), Gid = gid,
                Nlink = dir ? 2u : 1u, Size = dir ? 4096 : target?.Length ?? 0,
                AtimeNs = now, MtimeNs = now, CtimeNs = now, HideFrom = 0, Xattrs = xattrs,
            };
            PutNewRecord(rec);
            if (dir) _freshDirs[rec.Ino] = new ConcurrentDictionary<byte[], DentryValue>(ByteArrayComparer.Instance);
            SetDentry(parent, n, new DentryValue(rec.Ino, PosixMode.DirentType(mode)));
            var pw = RecordForWrite(parent);
            pw.MtimeNs = pw.CtimeNs = now;
            if (dir) pw.Nlink++;
            Log(op, caller, rec.Ino, parent, n);
        }
        AfterWrite();
        return rec.ToAttributes();
    }

    /// <summary>
    /// posix_acl_create: with a default ACL on the parent, it (masked by the requested mode) becomes the new
    /// inode's access ACL and, for a directory, its default ACL, and the umask does not apply; without one the
    /// umask does. Returns the new inode's extended attributes, or null for none.
    /// </summary>
    private SortedDictionary<string, byte[]>? InheritAcls(InodeRecord parent, bool dir, ref uint mode, uint umask)
    {
        byte[]? inherited = TryGetXattr(parent, PosixAcl.DefaultXattr);
        if (inherited == null || PosixAcl.Validate(inherited) == 0)
        {
            mode &= ~(umask & 0x1FFu);
            return null;
        }
        byte[]? access = PosixAcl.Inherit(inherited, ref mode);
        if (access == null && !dir) return null;
        var xattrs = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        if (access != null) xattrs[PosixAcl.AccessXattr] = access;
        if (dir) xattrs[PosixAcl.DefaultXattr] = inherited;
        return xattrs;
    }

    /// <summary>link: a new name for an existing non-directory inode.</summary>
    private InodeAttributes Link(ulong ino, ulong newParent, ReadOnlySpan<byte> newName, Caller? caller = null)
    {
        CheckWritable();
        CheckName(newName, lookup: false);
        byte[] n = newName.ToArray();
        InodeRecord rec;
        lock (_writeLock)
        {
            var prec = GetRecord(newParent);
            if (!prec.IsDirectory) throw new AgentFsException(Errno.ENOTDIR, $"inode {newParent} is not a directory");
            if (TryResolveEntry(newParent, prec, n, out _, out _, out _))
                throw new AgentFsException(Errno.EEXIST, $"{Encoding.UTF8.GetString(n)} already exists");
            rec = RecordForWrite(ino);
            if (rec.IsDirectory) throw new AgentFsException(Errno.EPERM, "hard links to directories are not allowed");
            long now = AgentStore.NowNs();
            rec.Nlink++;
            rec.CtimeNs = now;
            SetDentry(newParent, n, new DentryValue(ino, PosixMode.DirentType(rec.Mode)));
            var pw = RecordForWrite(newParent);
            pw.MtimeNs = pw.CtimeNs = now;
            Log("link", caller, ino, newParent, n);
        }
        AfterWrite();
        return rec.ToAttributes();
    }

    private void Unlink(ulong parent, ReadOnlySpan<byte> name, Caller? caller = null) => Remove(parent, name, directory: false, caller);

    private void Rmdir(ulong parent, ReadOnlySpan<byte> name, Caller? caller = null) => Remove(parent, name, directory: true, caller);

    private void Remove(ulong parent, ReadOnlySpan<byte> name, bool directory, Caller? caller)
    {
        CheckWritable();
        CheckName(name, lookup: true);
        byte[] n = name.ToArray();
        lock (_writeLock)
        {
            var prec = GetRecord(parent);
            if (!prec.IsDirectory) throw new AgentFsException(Errno.ENOTDIR, $"inode {parent} is not a directory");
            if (!TryResolveEntry(parent, prec, n, out ulong ino, out _, out var origin))
                throw new AgentFsException(Errno.ENOENT, $"{Encoding.UTF8.GetString(n)} does not exist");
            var rec = RecordForWrite(ino, origin);
            if (directory && !rec.IsDirectory) throw new AgentFsException(Errno.ENOTDIR, $"{Encoding.UTF8.GetString(n)} is not a directory");
            if (!directory && rec.IsDirectory) throw new AgentFsException(Errno.EISDIR, $"{Encoding.UTF8.GetString(n)} is a directory");
            if (directory && HasEntries(ino, rec)) throw new AgentFsException(Errno.ENOTEMPTY, $"directory {Encoding.UTF8.GetString(n)} is not empty");
            RemoveDentry(parent, prec, n);
            long now = AgentStore.NowNs();
            var pw = RecordForWrite(parent);
            pw.MtimeNs = pw.CtimeNs = now;
            if (directory)
            {
                pw.Nlink--;
                rec.Nlink = 0;
            }
            else rec.Nlink--;
            rec.CtimeNs = now;
            if (rec.Nlink == 0 && !IsOpen(ino)) DropInode(ino, rec);
            Log(directory ? "rmdir" : "unlink", caller, ino, parent, n);
        }
        AfterWrite();
    }

    /// <summary>Deletes a name in the top layer: a whiteout when a lower layer or the base still has it.</summary>
    private void RemoveDentry(ulong parent, InodeRecord prec, byte[] name) =>
        SetDentry(parent, name, NameExistsBelowTop(parent, prec, name) ? new DentryValue(0, 0) : DentryValue.Removed);

    /// <summary>rename and renameat2 with RENAME_NOREPLACE or RENAME_EXCHANGE.</summary>
    private void Rename(ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, RenameFlags flags = RenameFlags.None, Caller? caller = null)
    {
        CheckWritable();
        CheckName(name, lookup: true);
        CheckName(newName, lookup: false);
        if ((flags & RenameFlags.NoReplace) != 0 && (flags & RenameFlags.Exchange) != 0)
            throw new AgentFsException(Errno.EINVAL, "RENAME_NOREPLACE and RENAME_EXCHANGE exclude each other");
        byte[] n1 = name.ToArray(), n2 = newName.ToArray();
        lock (_writeLock)
        {
            var p1 = GetRecord(parent);
            var p2 = parent == newParent ? p1 : GetRecord(newParent);
            if (!p1.IsDirectory || !p2.IsDirectory) throw new AgentFsException(Errno.ENOTDIR, "rename: a parent is not a directory");
            if (!TryResolveEntry(parent, p1, n1, out ulong src, out _, out var srcOrigin))
                throw new AgentFsException(Errno.ENOENT, $"{Encoding.UTF8.GetString(n1)} does not exist");
            bool exists = TryResolveEntry(newParent, p2, n2, out ulong dst, out _, out var dstOrigin);
            if ((flags & RenameFlags.NoReplace) != 0 && exists)
                throw new AgentFsException(Errno.EEXIST, $"{Encoding.UTF8.GetString(n2)} already exists");
            if ((flags & RenameFlags.Exchange) != 0 && !exists)
                throw new AgentFsException(Errno.ENOENT, $"{Encoding.UTF8.GetString(n2)} does not exist");
            if (exists && dst == src) return; // same inode (or the same name): nothing to do
            long now = AgentStore.NowNs();
            var srec = RecordForWrite(src, srcOrigin);
            if ((flags & RenameFlags.Exchange) != 0)
            {
                var drec = RecordForWrite(dst, dstOrigin);
                SetDentry(parent, n1, new DentryValue(dst, PosixMode.DirentType(drec.Mode)));
                SetDentry(newParent, n2, new DentryValue(src, PosixMode.DirentType(srec.Mode)));
                if (parent != newParent && srec.IsDirectory != drec.IsDirectory)
                {
                    var w1 = RecordForWrite(parent);
                    var w2 = RecordForWrite(newParent);
                    int delta = srec.IsDirectory ? 1 : -1;
                    w1.Nlink = (uint)(w1.Nlink - delta);
                    w2.Nlink = (uint)(w2.Nlink + delta);
                }
                drec.CtimeNs = now;
            }
            else
            {
                bool dirMovedAway = false;
                if (exists)
                {
                    var drec = RecordForWrite(dst, dstOrigin);
                    if (srec.IsDirectory)
                    {
                        if (!drec.IsDirectory) throw new AgentFsException(Errno.ENOTDIR, $"{Encoding.UTF8.GetString(n2)} is not a directory");
                        if (HasEntries(dst, drec)) throw new AgentFsException(Errno.ENOTEMPTY, $"directory {Encoding.UTF8.GetString(n2)} is not empty");
                        drec.Nlink = 0;
                        dirMovedAway = true;
                    }
                    else
                    {
                        if (drec.IsDirectory) throw new AgentFsException(Errno.EISDIR, $"{Encoding.UTF8.GetString(n2)} is a directory");
                        drec.Nlink--;
                    }
                    drec.CtimeNs = now;
                    if (drec.Nlink == 0 && !IsOpen(dst)) DropInode(dst, drec);
                }
                SetDentry(newParent, n2, new DentryValue(src, PosixMode.DirentType(srec.Mode)));
                RemoveDentry(parent, p1, n1);
                if (srec.IsDirectory)
                {
                    // The old parent loses the directory's '..'; the new one gains it unless it replaced a directory.
                    if (parent != newParent)
                    {
                        RecordForWrite(parent).Nlink--;
                        if (!dirMovedAway) RecordForWrite(newParent).Nlink++;
                    }
                    else if (dirMovedAway) RecordForWrite(parent).Nlink--;
                }
            }
            srec.CtimeNs = now;
            var a = RecordForWrite(parent);
            a.MtimeNs = a.CtimeNs = now;
            var b = RecordForWrite(newParent);
            b.MtimeNs = b.CtimeNs = now;
            Log("rename", caller, src, parent, n1, toParent: newParent, toName: n2, exchanged: (flags & RenameFlags.Exchange) != 0 ? dst : 0);
        }
        AfterWrite();
    }

    private bool HasEntries(ulong ino, InodeRecord rec) => ListEntries(ino, rec, firstOnly: true).Count > 0;

    /// <summary>
    /// readdir: the entries of a directory (without . and ..), ordered by their offset cookie. A cookie is a
    /// hash of the name, so an offset stays valid while the directory changes: reading on from it neither
    /// repeats nor skips entries that did not change.
    /// </summary>
    private List<DirectoryEntry> ReadDirectory(ulong ino)
    {
        var rec = GetRecord(ino);
        if (!rec.IsDirectory) throw new AgentFsException(Errno.ENOTDIR, $"inode {ino} is not a directory");
        return ListEntries(ino, rec, firstOnly: false);
    }

    private List<DirectoryEntry> ListEntries(ulong ino, InodeRecord rec, bool firstOnly)
    {
        // Capture the memtables before reading SQLite: a table committed meanwhile is then in SQLite, and the
        // captured objects still hold their rows (a table never changes once swapped out).
        var current = _current;
        var flushing = _flushing;
        var map = new Dictionary<byte[], (ulong Ino, byte Type)>(ByteArrayComparer.Instance);
        if (rec.Origin != null)
        {
            foreach (var (name, type, dino) in _base.ReadDirectory(rec.Origin))
            {
                byte t = type;
                ulong mapped;
                if (t == 0 || dino == 0)
                {
                    if (!_base.TryStat(JoinBase(rec.Origin, name), out var st)) continue;
                    t = PosixMode.DirentType(st.Mode);
                    mapped = _base.MapIno(st);
                }
                else mapped = dino == _base.RootIno ? InodeNumbers.Root : dino & InodeNumbers.BaseMask;
                map[name] = (mapped, t);
            }
        }
        var best = _layers.NearestEntries(_chain, ino);
        foreach (var (name, v) in best)
        {
            if (v.Ino == 0) map.Remove(name);
            else map[name] = (v.Ino, v.Type);
        }
        foreach (var mt in new[] { flushing, current })
        {
            if (mt == null || !mt.Dentries.TryGetValue(ino, out var inner)) continue;
            foreach (var (k, v) in inner)
            {
                if (v.IsRemoved || v.IsWhiteout) map.Remove(k.Name);
                else map[k.Name] = (v.Ino, v.Type);
            }
        }
        var list = new List<DirectoryEntry>(map.Count);
        foreach (var (name, v) in map)
        {
            list.Add(new DirectoryEntry(name, v.Ino, (uint)v.Type << 12, Cookie(name)));
            if (firstOnly) break;
        }
        SortByOffset(list);
        return list;
    }

    /// <summary>
    /// Orders a listing by offset and makes the offsets strictly increasing: two names whose hashes collide (63
    /// bits: by chance never, but a hostile agent can make FNV collide on purpose) would share one offset, and a
    /// readdir that stopped between them would go on after both, hiding the second. The later one of equal
    /// offsets (by name) takes the next free value.
    /// </summary>
    internal static void SortByOffset(List<DirectoryEntry> list)
    {
        list.Sort(static (a, b) => a.Offset != b.Offset ? a.Offset.CompareTo(b.Offset) : a.Name.AsSpan().SequenceCompareTo(b.Name));
        for (int i = 1; i < list.Count; i++)
            if (list[i].Offset <= list[i - 1].Offset)
                list[i] = list[i] with { Offset = list[i - 1].Offset + 1 };
    }

    /// <summary>The readdir offset of a name: a 62-bit FNV-1a hash, above the 0..2 that mean start, '.' and '..'
    /// (62 bits leave room above for the offsets <see cref="SortByOffset"/> moves on a collision).</summary>
    public static long Cookie(ReadOnlySpan<byte> name)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in name) h = (h ^ b) * 1099511628211UL;
        long c = (long)(h >> 2);
        return c < 3 ? c + 3 : c;
    }

    private FileSystemStats StatFs()
    {
        var s = _base.StatFs();
        return new FileSystemStats(s.Bsize, s.Blocks, s.Bfree, s.Bavail, s.Files, s.Ffree, NameMax);
    }

    // ---- extended attributes ----------------------------------------------------------------------

    private SortedDictionary<string, byte[]> Xattrs(InodeRecord rec) =>
        rec.XattrsFromBase && rec.Origin != null ? _base.ReadXattrs(rec.Origin) : rec.Xattrs ?? new SortedDictionary<string, byte[]>(StringComparer.Ordinal);

    /// <summary>getxattr: the value, or ENODATA.</summary>
    private byte[] GetXattr(ulong ino, string name) =>
        TryGetXattr(ino, name) ?? throw new AgentFsException(XattrNamespace.Check(name) is int refused and not 0 ? refused : Errno.ENODATA, $"no attribute {name}");

    /// <summary>getxattr without an exception for a missing name (the kernel asks for security.* names often).</summary>
    private byte[]? TryGetXattr(ulong ino, string name) => TryGetXattr(GetRecord(ino), name);

    private IReadOnlyList<string> ListXattr(ulong ino) => Xattrs(GetRecord(ino)).Keys.ToList();

    /// <summary>
    /// setxattr. The POSIX ACL names follow the kernel's rules for local file systems (see <see cref="PosixAcl"/>):
    /// an access ACL sets the permission bits of the mode and is stored only when it says more than they do;
    /// with <paramref name="dropSetGid"/> (the caller is neither in the file's group nor privileged) setting
    /// it also clears set-group-id. A default ACL is for directories only.
    /// </summary>
    private void SetXattr(ulong ino, string name, ReadOnlySpan<byte> value, int flags = 0, bool dropSetGid = false, Caller? caller = null)
    {
        CheckWritable();
        if (name.Length == 0 || Encoding.UTF8.GetByteCount(name) > 255) throw new AgentFsException(Errno.ERANGE, "attribute name must be 1 to 255 bytes");
        if (value.Length > 65536) throw new AgentFsException(Errno.ERANGE, "attribute value is larger than 64 KiB");
        if (XattrNamespace.Check(name) is int refused and not 0)
            throw new AgentFsException(refused, $"attribute {name} is in no namespace a file system keeps (user., trusted., security., system.posix_acl_*)");
        bool acl = PosixAcl.IsAclName(name);
        int aclEntries = acl ? PosixAcl.Validate(value) : 0;
        byte[] copy = value.ToArray();
        lock (_writeLock)
        {
            if (acl)
            {
                var current = GetRecord(ino);
                if (current.IsSymlink) throw new AgentFsException(Errno.EOPNOTSUPP, $"symbolic links have no ACLs (inode {ino})");
                if (name == PosixAcl.DefaultXattr && !current.IsDirectory && aclEntries > 0)
                    throw new AgentFsException(Errno.EACCES, $"only directories have a default ACL (inode {ino})");
            }
            var rec = RecordForWrite(ino);
            bool exists = TryGetXattr(rec, name) != null;
            if ((flags & XattrCreate) != 0 && exists) throw new AgentFsException(Errno.EEXIST, $"attribute {name} exists");
            if ((flags & XattrReplace) != 0 && !exists) throw new AgentFsException(Errno.ENODATA, $"no attribute {name}");
            bool store = true;
            if (name == PosixAcl.AccessXattr && aclEntries > 0)
            {
                uint mode = rec.Mode;
                store = !PosixAcl.ToMode(copy, ref mode);
                if (dropSetGid) mode &= ~PosixMode.S_ISGID;
                rec.Mode = mode;
            }
            else if (acl && aclEntries == 0) store = false; // a header alone: no ACL
            ReplaceXattrs(rec, x =>
            {
                if (store) x[name] = copy;
                else x.Remove(name);
            });
            rec.CtimeNs = AgentStore.NowNs();
            Log("setxattr", caller, ino, bytes: value.Length);
        }
        AfterWrite();
    }

    /// <summary>removexattr (ENODATA when missing). Removing an ACL that is not there succeeds, as on ext4.</summary>
    private void RemoveXattr(ulong ino, string name, Caller? caller = null)
    {
        CheckWritable();
        lock (_writeLock)
        {
            if (TryGetXattr(GetRecord(ino), name) == null)
            {
                if (PosixAcl.IsAclName(name)) return;
                // One stored before names were checked can still be removed (above); others are refused as on ext4.
                throw new AgentFsException(XattrNamespace.Check(name) is int refused and not 0 ? refused : Errno.ENODATA, $"no attribute {name}");
            }
            var rec = RecordForWrite(ino);
            ReplaceXattrs(rec, x => x.Remove(name));
            rec.CtimeNs = AgentStore.NowNs();
            Log("removexattr", caller, ino);
        }
        AfterWrite();
    }

    /// <summary>Gives a record being written its own copy of its attributes, changed by <paramref name="change"/>
    /// (records outside the current memtable are shared and never changed in place).</summary>
    private void ReplaceXattrs(InodeRecord rec, Action<SortedDictionary<string, byte[]>> change)
    {
        var x = new SortedDictionary<string, byte[]>(Xattrs(rec), StringComparer.Ordinal);
        change(x);
        rec.Xattrs = x;
        rec.XattrsFromBase = false;
    }

    /// <summary>The attribute that gives an executable file capabilities; a change of its content or owner drops it.</summary>
    public const string CapabilityXattr = "security.capability";

    /// <summary>Whether the inode has the extended attribute <paramref name="name"/>.</summary>
    private bool HasXattr(ulong ino, string name) => TryGetXattr(GetRecord(ino), name) != null;

    private byte[]? TryGetXattr(InodeRecord rec, string name) =>
        rec.XattrsFromBase && rec.Origin != null ? _base.ReadXattr(rec.Origin, name)
        : rec.Xattrs != null && rec.Xattrs.TryGetValue(name, out var v) ? v : null;

    /// <summary>
    /// Drops the privileges a write, a truncation or a change of owner must drop, as the kernel does for a
    /// local file system: the security.capability attribute always, and with <paramref name="setIds"/> (the
    /// caller lacks CAP_FSETID) the set-user-id bit, and the set-group-id bit when the group may execute.
    /// Nothing is written when there is nothing to drop. A FUSE mount with FUSE_HANDLE_KILLPRIV_V2 calls this.
    /// Returns whether anything was dropped.
    /// </summary>
    private bool KillPrivileges(ulong ino, bool setIds, Caller? caller = null)
    {
        CheckWritable();
        bool changed = false;
        lock (_writeLock)
        {
            var current = GetRecord(ino);
            uint mode = current.Mode;
            if (setIds && !current.IsDirectory)
            {
                mode &= ~0x800u;                   // S_ISUID
                if ((mode & 0x8) != 0) mode &= ~0x400u; // S_ISGID when S_IXGRP
            }
            bool capability = TryGetXattr(current, CapabilityXattr) != null; // one lgetxattr for a base file
            if (mode != current.Mode || capability)
            {
                var rec = RecordForWrite(ino);
                rec.Mode = mode;
                if (capability)
                {
                    var rest = new SortedDictionary<string, byte[]>(Xattrs(current), StringComparer.Ordinal);
                    rest.Remove(CapabilityXattr);
                    rec.Xattrs = rest;
                    rec.XattrsFromBase = false;
                }
                rec.CtimeNs = AgentStore.NowNs();
                Log("setattr", caller, ino);
                changed = true;
            }
        }
        if (changed) AfterWrite();
        return changed;
    }

    // ---- names ------------------------------------------------------------------------------------

    /// <summary>A name is any bytes but '/' and NUL, 1 to 255 of them, and not "." or "..".</summary>
    internal static void CheckName(ReadOnlySpan<byte> name, bool lookup)
    {
        if (name.IsEmpty) throw new AgentFsException(Errno.EINVAL, "an empty file name");
        if (name.Length > NameMax) throw new AgentFsException(Errno.ENAMETOOLONG, $"file name of {name.Length} bytes is longer than {NameMax}");
        if (name.IndexOf((byte)'/') >= 0) throw new AgentFsException(Errno.EINVAL, $"file name {Encoding.UTF8.GetString(name)} contains '/'");
        if (name.IndexOf((byte)0) >= 0) throw new AgentFsException(Errno.EINVAL, $"file name {Encoding.UTF8.GetString(name).Replace("\0", "\\0")} contains a NUL byte");
        if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
            throw new AgentFsException(lookup ? Errno.EINVAL : Errno.EEXIST, $"'{Encoding.UTF8.GetString(name)}' cannot be used as a name here");
    }
}

internal sealed class ByteArrayComparer : IEqualityComparer<byte[]>
{
    public static readonly ByteArrayComparer Instance = new();
    public bool Equals(byte[]? a, byte[]? b) => a.AsSpan().SequenceEqual(b);
    public int GetHashCode(byte[] o)
    {
        var h = new HashCode();
        h.AddBytes(o);
        return h.ToHashCode();
    }
}
