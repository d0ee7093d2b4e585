using System.Collections.Concurrent;
using System.Text;
using AgentFs.Fuse.Protocol;

namespace AgentFs.Fuse;

/// <summary>
/// Maps FUSE requests one to one onto a branch of a store (<see cref="AgentFileSystem"/>). Node ids are the
/// library's inode numbers (the root is 1 on both sides). Errors become errnos here and nowhere else.
///
/// Caching: entries and attributes are handed out with long timeouts (<see cref="EntryTimeout"/>), negative
/// entries too, because this mount is the only writer of its branch (the store's lease). When the branch
/// changes behind the kernel (rollback, a switch of branch), the owner calls <see cref="InvalidateAll"/>.
/// Open files keep their page cache across opens (KeepCache) unless the file changed since it was cached.
/// </summary>
public sealed class AgentFuseFileSystem : IFuseFileSystem
{
    private readonly AgentFileSystem _fs;
    private readonly ConcurrentDictionary<ulong, DirHandle> _dirs = new();
    private long _nextFh = 1;

    /// <summary>Inodes the kernel reads through passthrough (the base file), with the backing id and open count.</summary>
    private readonly Dictionary<ulong, (int BackingId, int Opens)> _passthrough = new();
    private const ulong PassthroughFh = 1UL << 63;

    /// <summary>Use FUSE passthrough for read-only opens of base files the branch never changed.</summary>
    public bool Passthrough { get; init; }

    public AgentFuseFileSystem(AgentFileSystem fs, TimeSpan? entryTimeout = null)
    {
        _fs = fs;
        _references = new KernelReferences(fs);
        EntryTimeout = entryTimeout ?? TimeSpan.FromHours(1);
        fs.BeforeStateReplaced += WriteBackAndDropPages;
        fs.StateReplaced += ForgetEverythingCached;
    }

    /// <summary>The kernel's lookup counts: the library counts nothing.</summary>
    private readonly KernelReferences _references;

    /// <summary>Names the kernel may have cached (positive or negative), to invalidate when the state is replaced.</summary>
    private readonly KernelNameCache _cachedNames = new();

    /// <summary>How many names the kernel may cache at most (each is remembered here, to invalidate it after a
    /// rollback); past it, entries are handed out with no entry timeout.</summary>
    public int MaxCachedNames { get => _cachedNames.Capacity; init => _cachedNames.Capacity = value; }

    /// <summary>How long the kernel may keep a name: the entry timeout when it is remembered for invalidation, none
    /// when the set of remembered names is full.</summary>
    private TimeSpan RememberName(ulong parent, ReadOnlySpan<byte> name) =>
        _cachedNames.TryRemember(parent, name) ? EntryTimeout : TimeSpan.Zero;

    /// <summary>Before a rollback: invalidating an inode's pages makes the kernel write its dirty pages back first.
    /// The sizes the kernel knows are noted, to find the files the rollback changes under it.</summary>
    private void WriteBackAndDropPages()
    {
        var s = Session;
        if (s == null) return;
        var sizes = new Dictionary<ulong, (long Size, uint Mode)>();
        foreach (ulong ino in _references.Known())
        {
            s.NotifyInvalInode(ino, 0, 0);
            try { var a = _fs.GetAttr(ino); sizes[ino] = (a.Size, a.Mode); }
            catch (AgentFsException) { }
        }
        _beforeReplace = sizes;
    }

    private Dictionary<ulong, (long Size, uint Mode)>? _beforeReplace;

    /// <summary>
    /// Regular files a rollback changed under the kernel, with the epoch of that rollback. With the writeback cache
    /// the kernel trusts its own size of a regular file for as long as its inode lives, and an open descriptor keeps
    /// it alive: an append through it after a rollback to a shorter state landed at the old size, NULs in between.
    /// So the epoch is the inode's generation in lookups from then on (the kernel drops its copy for a fresh one;
    /// the old turns bad), and handles, numbered by the epoch they were opened in (fh), get ESTALE when older.
    /// </summary>
    private readonly ConcurrentDictionary<ulong, long> _replacedAt = new();
    private long _epoch = 1;

    /// <summary>Whether <see cref="_replacedAt"/> has entries: asked on every lookup, read and write, where
    /// ConcurrentDictionary.IsEmpty would take every lock of the dictionary.</summary>
    private volatile bool _anyReplaced;

    private long ReplacedAt(ulong nodeId) => _anyReplaced && _replacedAt.TryGetValue(nodeId, out long epoch) ? epoch : 0;

    private bool IsStale(ulong nodeId, ulong fh) => fh != PassthroughFh && (long)fh < ReplacedAt(nodeId);

    /// <summary>After a rollback: the kernel forgets every name, attribute and page it cached.</summary>
    private void ForgetEverythingCached()
    {
        var s = Session;
        if (s == null) return;
        _cachedNames.DrainTo((parent, name) => s.NotifyInvalEntry(parent, name));
        foreach (ulong ino in _references.Known()) s.NotifyInvalInode(ino, 0, 0);
        if (Interlocked.Exchange(ref _beforeReplace, null) is not { } before) return;
        long epoch = Interlocked.Increment(ref _epoch);
        foreach (var (ino, was) in before)
        {
            // Regular files only: the kernel takes a directory's size from us anyway, and a new generation of a
            // directory would turn the working directory of every process in it bad.
            if ((was.Mode & PosixMode.S_IFMT) != PosixMode.S_IFREG) continue;
            bool same;
            try { var a = _fs.GetAttr(ino); same = a.Size == was.Size && a.Mode == was.Mode; }
            catch (AgentFsException) { same = false; }
            if (same) continue;
            _replacedAt[ino] = epoch;
            _anyReplaced = true;
        }
    }

    public AgentFileSystem FileSystem => _fs;
    public TimeSpan EntryTimeout { get; }
    public FuseSession? Session { get; set; }

    private sealed class DirHandle
    {
        public ulong Ino;
        public List<DirectoryEntry>? Entries;
    }

    // ---- helpers -----------------------------------------------------------------------------------

    /// <summary>Who made a request, for the operation log and the owner of what it creates.</summary>
    private static Caller CallerOf(in FuseContext c) => new((int)c.Pid, c.Uid, c.Gid);

    private int Fail(Exception e)
    {
        if (e is AgentFsException { IsStoreCorrupt: true } corrupt) ReportCorruption(corrupt);
        return e switch
        {
            AgentFsException a => a.Errno,
            ObjectDisposedException => Errno.EIO,
            _ => Errno.EIO,
        };
    }

    /// <summary>Where the mount reports what its user must know (the mount's log); null: nowhere.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>The corrupt rows already reported: each is logged once, however often the kernel asks (bounded).</summary>
    private readonly ConcurrentDictionary<string, byte> _reportedCorruption = new();

    /// <summary>A request met a corrupt row of the store: the kernel gets EIO for that entry, the mount goes on serving
    /// the rest, and the log says once which row it was and to restore a backup.</summary>
    private void ReportCorruption(AgentFsException e)
    {
        if (Log == null || _reportedCorruption.Count >= 1000 || !_reportedCorruption.TryAdd(e.Message, 0)) return;
        try { Log(e.Message); } catch (Exception) { /* reporting must never fail the request */ }
    }

    private static void Fill(ref FuseAttr a, in InodeAttributes s)
    {
        a.Ino = s.Ino;
        a.Size = (ulong)s.Size;
        a.Blocks = (ulong)s.Blocks;
        a.Atime = (ulong)(s.AtimeNs / 1_000_000_000); a.AtimeNsec = (uint)(s.AtimeNs % 1_000_000_000);
        a.Mtime = (ulong)(s.MtimeNs / 1_000_000_000); a.MtimeNsec = (uint)(s.MtimeNs % 1_000_000_000);
        a.Ctime = (ulong)(s.CtimeNs / 1_000_000_000); a.CtimeNsec = (uint)(s.CtimeNs % 1_000_000_000);
        a.Mode = s.Mode;
        a.Nlink = s.Nlink;
        a.Uid = s.Uid;
        a.Gid = s.Gid;
        a.Rdev = (uint)s.Rdev;
        a.BlkSize = 4096;
    }

    private void Fill(ref FuseEntryOut e, in InodeAttributes s, TimeSpan entryTimeout)
    {
        e.NodeId = s.Ino;
        e.Generation = (ulong)ReplacedAt(s.Ino);
        e.SetTimeouts(entryTimeout, EntryTimeout);
        Fill(ref e.Attr, s);
    }

    /// <summary>The entry reply for a name just created or linked: the kernel may cache the name, and holds one
    /// reference to the inode (counted here rather than by a second lookup).</summary>
    private void ReplyNewEntry(ulong parent, ReadOnlySpan<byte> name, in InodeAttributes a, ref FuseEntryOut entry)
    {
        var timeout = RememberName(parent, name);
        _references.Add(a.Ino);
        Fill(ref entry, a, timeout);
    }

    /// <summary>Forgets every cached name and attribute of the kernel (after a rollback or branch switch).</summary>
    public void InvalidateAll(IEnumerable<ulong> nodes)
    {
        var s = Session;
        if (s == null) return;
        foreach (ulong n in nodes) s.NotifyInvalInode(n, 0, 0);
    }

    /// <summary>With FUSE_DONT_MASK the kernel leaves the umask to us (the library applies it unless a default
    /// ACL decides); without it the mode arrives masked already.</summary>
    private uint UmaskToApply(uint umask) => _applyUmask ? umask : 0;

    private bool _applyUmask;

    // ---- IFuseFileSystem --------------------------------------------------------------------------

    public int Init(FuseConnectionInfo connection)
    {
        _applyUmask = connection.Has(FuseInitFlags.DontMask);
        return 0;
    }

    public int Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ref FuseEntryOut entry)
    {
        // With export support the kernel may ask for "." and ".." (open_by_handle_at, nfsd); parents are not
        // tracked, and the kernel copes with ENOENT there.
        if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8)) return Errno.ENOENT;
        try
        {
            var timeout = RememberName(parent, name);
            if (_fs.TryLookup(parent, name, out var attributes))
            {
                _references.Add(attributes.Ino);
                Fill(ref entry, attributes, timeout);
                return 0;
            }
            // A negative entry the kernel may cache: we are the only writer of this branch.
            entry.NodeId = 0;
            entry.SetTimeouts(timeout, TimeSpan.Zero);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public void Forget(ulong nodeId, ulong nlookup) => _references.Forget(nodeId, nlookup);

    public int GetAttr(in FuseContext context, ulong nodeId, ulong? fh, ref FuseAttrOut attr)
    {
        try
        {
            if (!_fs.TryGetAttr(nodeId, out var attributes)) return Errno.ESTALE;
            Fill(ref attr.Attr, attributes);
            attr.SetTimeout(EntryTimeout);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int SetAttr(in FuseContext context, ulong nodeId, in FuseSetAttrIn changes, ref FuseAttrOut attr)
    {
        try
        {
            // After an unlink the kernel writes back the ctime of the inode it still caches; it is gone.
            if (!_fs.TryGetAttr(nodeId, out _)) return Errno.ESTALE;
            var f = (SetAttrFields)((uint)changes.Valid & (uint)(SetAttrFields.Mode | SetAttrFields.Uid | SetAttrFields.Gid | SetAttrFields.Size |
                SetAttrFields.Atime | SetAttrFields.Mtime | SetAttrFields.AtimeNow | SetAttrFields.MtimeNow | SetAttrFields.Ctime));
            var req = new SetAttrRequest(f, changes.Mode, changes.Uid, changes.Gid, (long)changes.Size,
                (long)changes.Atime * 1_000_000_000 + changes.AtimeNsec,
                (long)changes.Mtime * 1_000_000_000 + changes.MtimeNsec,
                (long)changes.Ctime * 1_000_000_000 + changes.CtimeNsec);
            var result = _fs.SetAttr(nodeId, req, CallerOf(context));
            // FUSE_HANDLE_KILLPRIV_V2: a truncation or a change of owner drops the capability attribute, and the
            // set-id bits when the kernel says so (the caller lacks CAP_FSETID, or a chown of a non-directory).
            bool killIds = ((uint)changes.Valid & (uint)FuseSetAttrValid.KillSuidGid) != 0;
            if (killIds || (f & (SetAttrFields.Size | SetAttrFields.Uid | SetAttrFields.Gid)) != 0)
            {
                _capabilityNodes.TryRemove(nodeId, out _);
                if (_fs.KillPrivileges(nodeId, killIds, CallerOf(context)))
                    result = _fs.GetAttr(nodeId);
            }
            Fill(ref attr.Attr, result);
            attr.SetTimeout(EntryTimeout);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int ReadLink(in FuseContext context, ulong nodeId, Span<byte> target, out int length)
    {
        length = 0;
        try
        {
            byte[] t = _fs.ReadLink(nodeId);
            if (t.Length > target.Length) return Errno.ENAMETOOLONG;
            t.CopyTo(target);
            length = t.Length;
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Symlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, ref FuseEntryOut entry)
    {
        try
        {
            var a = _fs.Symlink(parent, name, target, CallerOf(context));
            ReplyNewEntry(parent, name, a, ref entry);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Mknod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, uint umask, ref FuseEntryOut entry)
    {
        try
        {
            var a = _fs.Mknod(parent, name, mode, rdev, UmaskToApply(umask), CallerOf(context));
            ReplyNewEntry(parent, name, a, ref entry);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Mkdir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, ref FuseEntryOut entry)
    {
        try
        {
            var a = _fs.Mkdir(parent, name, mode, UmaskToApply(umask), CallerOf(context));
            ReplyNewEntry(parent, name, a, ref entry);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name)
    {
        try
        {
            _fs.Unlink(parent, name, CallerOf(context));
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Rmdir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name)
    {
        try
        {
            _fs.Rmdir(parent, name, CallerOf(context));
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Rename(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, uint flags)
    {
        const uint NoReplace = 1, Exchange = 2;
        if ((flags & ~(NoReplace | Exchange)) != 0) return Errno.EINVAL;
        try
        {
            var rf = ((flags & NoReplace) != 0 ? RenameFlags.NoReplace : 0) | ((flags & Exchange) != 0 ? RenameFlags.Exchange : 0);
            _fs.Rename(parent, name, newParent, newName, rf, CallerOf(context));
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, ref FuseEntryOut entry)
    {
        try
        {
            var a = _fs.Link(nodeId, newParent, newName, CallerOf(context));
            ReplyNewEntry(newParent, newName, a, ref entry);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Open(in FuseContext context, ulong nodeId, int flags, uint openFlags, ref FuseOpenOut open)
    {
        try
        {
            const int O_TRUNC = 0x200, O_ACCMODE = 3;
            bool trunc = (flags & O_TRUNC) != 0 && (flags & O_ACCMODE) != 0;
            if ((flags & O_ACCMODE) != 0)
                KillPrivilegesOnOpen(nodeId, trunc, (openFlags & FuseRequestFlags.OpenKillSuidGid) != 0, CallerOf(context));
            if (Passthrough && Session is { } session && (session.Connection.KernelFlags & FuseInitFlags.Passthrough) != 0)
            {
                lock (_passthrough)
                {
                    bool active = _passthrough.TryGetValue(nodeId, out var pt);
                    if ((flags & O_ACCMODE) != 0)
                    {
                        // The kernel refuses to mix passthrough and cached opens of one inode, and a write must
                        // never reach the base: while the base file is read through passthrough, writers wait.
                        // The kernel sends RELEASE after close(2) returned, so give a just-closed reader a moment.
                        for (int wait = 0; active && wait < 100; wait++)
                        {
                            Monitor.Exit(_passthrough);
                            try { Thread.Sleep(2); }
                            finally { Monitor.Enter(_passthrough); }
                            active = _passthrough.ContainsKey(nodeId);
                        }
                        if (active) return 26; // ETXTBSY
                    }
                    else
                    {
                        int fd = active ? -1 : _fs.TryOpenUntouchedBaseFile(nodeId);
                        if (active || fd >= 0)
                        {
                            if (!active)
                            {
                                int rc = session.OpenBacking(fd, out int id);
                                Native.BaseDirectory.Close(fd);
                                if (rc != 0) goto cached;
                                pt = (id, 0);
                            }
                            _passthrough[nodeId] = (pt.BackingId, pt.Opens + 1);
                            _fs.Open(nodeId, false);
                            open.Fh = PassthroughFh;
                            open.BackingId = pt.BackingId;
                            open.OpenFlags = FuseOpenFlags.Passthrough;
                            return 0;
                        }
                    }
                }
            }
        cached:
            _fs.Open(nodeId, trunc, CallerOf(context));
            open.Fh = (ulong)Volatile.Read(ref _epoch);
            open.OpenFlags = trunc ? FuseOpenFlags.None : FuseOpenFlags.KeepCache;
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    /// <summary>
    /// FUSE_HANDLE_KILLPRIV_V2 leaves dropping privileges to us, and in return the kernel stops asking for
    /// security.capability before every write. A truncating open drops them now; a file opened for writing
    /// that has the capability attribute is noted, and its first write drops it.
    /// </summary>
    private void KillPrivilegesOnOpen(ulong nodeId, bool truncate, bool killIds, Caller caller)
    {
        if (truncate)
        {
            _capabilityNodes.TryRemove(nodeId, out _);
            if (_fs.KillPrivileges(nodeId, killIds, caller))
                Session?.NotifyInvalInode(nodeId, -1);
        }
        else if (_fs.HasXattr(nodeId, AgentFileSystem.CapabilityXattr))
        {
            _capabilityNodes.TryAdd(nodeId, 0);
            _capabilitySeen = true;
        }
    }

    /// <summary>Files opened for writing that carry security.capability: their next write removes it.</summary>
    private readonly ConcurrentDictionary<ulong, byte> _capabilityNodes = new();

    /// <summary>Set once a file with security.capability was opened for writing: until then a write need not
    /// look in <see cref="_capabilityNodes"/> (ConcurrentDictionary.IsEmpty takes every lock when empty).</summary>
    private volatile bool _capabilitySeen;

    public int Create(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, int flags, uint mode, uint umask, ref FuseEntryOut entry, ref FuseOpenOut open)
    {
        try
        {
            var a = _fs.Create(parent, name, mode, UmaskToApply(umask), CallerOf(context));
            ReplyNewEntry(parent, name, a, ref entry);
            _fs.Open(a.Ino);
            open.Fh = (ulong)Volatile.Read(ref _epoch);
            open.OpenFlags = FuseOpenFlags.KeepCache;
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Read(in FuseContext context, ulong nodeId, ulong fh, long offset, Span<byte> buffer, out int bytesRead)
    {
        bytesRead = 0;
        try
        {
            if (IsStale(nodeId, fh)) return Errno.ESTALE;
            bytesRead = _fs.Read(nodeId, offset, buffer);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Write(in FuseContext context, ulong nodeId, ulong fh, long offset, ReadOnlySpan<byte> data, uint writeFlags, out int bytesWritten)
    {
        bytesWritten = 0;
        try
        {
            if (IsStale(nodeId, fh)) return Errno.ESTALE;
            // Writes from the page cache (writeback) carry no time: the kernel owns mtime and sends it by setattr.
            bytesWritten = _fs.Write(nodeId, offset, data, updateTimes: (writeFlags & FuseRequestFlags.WriteCache) == 0, caller: CallerOf(context));
            bool killIds = (writeFlags & FuseRequestFlags.WriteKillSuidGid) != 0;
            if ((killIds || (_capabilitySeen && _capabilityNodes.TryRemove(nodeId, out _))) &&
                _fs.KillPrivileges(nodeId, killIds, CallerOf(context)))
                Session?.NotifyInvalInode(nodeId, -1); // the kernel's cached mode still has the bits
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    /// <summary>Nothing to do at close: the kernel writes dirty pages back before FLUSH, and locks are the kernel's.
    /// ENOSYS makes the kernel stop sending FLUSH (fc->no_flush), which saves a round trip per close(2).</summary>
    public int Flush(in FuseContext context, ulong nodeId, ulong fh, ulong lockOwner) => Errno.ENOSYS;

    public int Release(in FuseContext context, ulong nodeId, ulong fh, int flags, uint releaseFlags)
    {
        if (fh == PassthroughFh)
        {
            lock (_passthrough)
            {
                if (_passthrough.TryGetValue(nodeId, out var pt))
                {
                    if (pt.Opens <= 1)
                    {
                        _passthrough.Remove(nodeId);
                        Session?.CloseBacking(pt.BackingId);
                    }
                    else _passthrough[nodeId] = (pt.BackingId, pt.Opens - 1);
                }
            }
        }
        try { _fs.Release(nodeId); }
        catch (Exception) { }
        return 0;
    }

    public int Fsync(in FuseContext context, ulong nodeId, ulong fh, bool dataOnly)
    {
        try
        {
            _fs.Fsync(nodeId);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int OpenDir(in FuseContext context, ulong nodeId, int flags, ref FuseOpenOut open)
    {
        try
        {
            var a = _fs.GetAttr(nodeId);
            if (!a.IsDirectory) return Errno.ENOTDIR;
            ulong fh = (ulong)Interlocked.Increment(ref _nextFh);
            _dirs[fh] = new DirHandle { Ino = nodeId };
            open.Fh = fh;
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    private List<DirectoryEntry> Entries(ulong nodeId, ulong fh, long offset)
    {
        var h = _dirs.GetOrAdd(fh, _ => new DirHandle { Ino = nodeId });
        // A listing is taken at the start (offset 0, also after rewinddir) and read on by cookie.
        if (h.Entries == null || offset == 0) h.Entries = _fs.ReadDirectory(nodeId);
        return h.Entries;
    }

    private static int FirstAfter(List<DirectoryEntry> list, long offset)
    {
        int lo = 0, hi = list.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (list[mid].Offset <= offset) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    public int ReadDir(in FuseContext context, ulong nodeId, ulong fh, long offset, ref FuseDirWriter writer)
    {
        try
        {
            var list = Entries(nodeId, fh, offset);
            if (offset < 1 && !writer.Add("."u8, nodeId, 4, 1)) return 0;
            if (offset < 2 && !writer.Add(".."u8, nodeId, 4, 2)) return 0;
            for (int i = FirstAfter(list, Math.Max(offset, 2)); i < list.Count; i++)
            {
                var e = list[i];
                if (!writer.Add(e.Name, e.Ino, e.Mode >> 12, e.Offset)) break;
            }
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int ReadDirPlus(in FuseContext context, ulong nodeId, ulong fh, long offset, ref FuseDirPlusWriter writer)
    {
        try
        {
            var list = Entries(nodeId, fh, offset);
            var dot = default(FuseEntryOut);
            if (offset < 1)
            {
                dot.Attr.Ino = nodeId;
                dot.Attr.Mode = PosixMode.S_IFDIR;
                if (!writer.Add("."u8, dot, 1)) return 0;
            }
            if (offset < 2)
            {
                dot.Attr.Ino = nodeId;
                dot.Attr.Mode = PosixMode.S_IFDIR;
                if (!writer.Add(".."u8, dot, 2)) return 0;
            }
            for (int i = FirstAfter(list, Math.Max(offset, 2)); i < list.Count; i++)
            {
                var d = list[i];
                var entry = default(FuseEntryOut);
                // An entry of readdirplus is a lookup for the kernel: look it up (which also finds base files
                // never looked up before), and count it only if the entry fits.
                InodeAttributes a;
                try { a = _fs.Lookup(nodeId, d.Name); }
                catch (AgentFsException e) when (e.IsStoreCorrupt)
                {
                    // Listed without an entry (node id 0: the kernel links nothing), so a lookup of it answers EIO.
                    ReportCorruption(e);
                    entry.Attr.Ino = d.Ino;
                    entry.Attr.Mode = d.Mode;
                    if (!writer.Add(d.Name, entry, d.Offset)) break;
                    continue;
                }
                catch (AgentFsException) { continue; } // gone since the listing was taken
                Fill(ref entry, a, RememberName(nodeId, d.Name));
                if (!writer.Add(d.Name, entry, d.Offset))
                {
                    // Not handed out: the kernel holds nothing of it unless it did before.
                    if (_references.CountOf(a.Ino) == 0) _fs.Forget(a.Ino);
                    break;
                }
                _references.Add(a.Ino);
            }
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int ReleaseDir(in FuseContext context, ulong nodeId, ulong fh)
    {
        _dirs.TryRemove(fh, out _);
        return 0;
    }

    public int FsyncDir(in FuseContext context, ulong nodeId, ulong fh, bool dataOnly) => Fsync(context, nodeId, fh, dataOnly);

    public int StatFs(in FuseContext context, ulong nodeId, ref FuseKstatfs stat)
    {
        try
        {
            var s = _fs.StatFs();
            stat.Bsize = (uint)s.BlockSize;
            stat.Frsize = (uint)s.BlockSize;
            stat.Blocks = s.Blocks;
            stat.Bfree = s.BlocksFree;
            stat.Bavail = s.BlocksAvailable;
            stat.Files = s.Files;
            stat.Ffree = s.FilesFree;
            stat.NameLen = s.NameMax;
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, int flags) =>
        SetXattr(in context, nodeId, name, value, flags, 0);

    public int SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, int flags, uint setXattrFlags)
    {
        try
        {
            // FUSE_POSIX_ACL: the kernel says when setting an access ACL must clear set-group-id.
            _fs.SetXattr(nodeId, Encoding.UTF8.GetString(name), value, flags,
                dropSetGid: (setXattrFlags & FuseRequestFlags.SetXattrAclKillSgid) != 0, caller: CallerOf(context));
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value, out int size)
    {
        size = 0;
        try
        {
            string text = Encoding.UTF8.GetString(name);
            byte[]? v = _fs.TryGetXattr(nodeId, text);
            if (v == null) return AgentFs.Overlay.XattrNamespace.Check(text) is int refused and not 0 ? refused : Errno.ENODATA;
            size = v.Length;
            if (value.IsEmpty) return 0;
            if (v.Length > value.Length) return Errno.ERANGE;
            v.CopyTo(value);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int ListXattr(in FuseContext context, ulong nodeId, Span<byte> list, out int size)
    {
        size = 0;
        try
        {
            var names = _fs.ListXattr(nodeId);
            int total = 0;
            foreach (var n in names) total += Encoding.UTF8.GetByteCount(n) + 1;
            size = total;
            if (list.IsEmpty) return 0;
            if (total > list.Length) return Errno.ERANGE;
            int pos = 0;
            foreach (var n in names)
            {
                pos += Encoding.UTF8.GetBytes(n, list[pos..]);
                list[pos++] = 0;
            }
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int RemoveXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name)
    {
        try
        {
            _fs.RemoveXattr(nodeId, Encoding.UTF8.GetString(name), CallerOf(context));
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Access(in FuseContext context, ulong nodeId, int mask)
    {
        try
        {
            _fs.GetAttr(nodeId);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    /// <summary>
    /// The library does the mode (and refuses what it cannot do with EOPNOTSUPP before changing anything). With the
    /// writeback cache the kernel keeps i_size itself: after a successful reply without KEEP_SIZE it sets
    /// i_size = max(i_size, offset + length), and before PUNCH_HOLE and ZERO_RANGE it writes the range's dirty pages
    /// back to us, so the store's size ends where the kernel's does once the remaining dirty pages arrive.
    /// </summary>
    public int Fallocate(in FuseContext context, ulong nodeId, ulong fh, long offset, long length, int mode)
    {
        try
        {
            _fs.Fallocate(nodeId, offset, length, (FallocateMode)mode, CallerOf(context));
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Lseek(in FuseContext context, ulong nodeId, ulong fh, long offset, int whence, out long resultOffset)
    {
        const int SeekData = 3, SeekHole = 4, ENXIO = 6;
        resultOffset = 0;
        try
        {
            if (whence != SeekData && whence != SeekHole) return Errno.EINVAL;
            long r = _fs.SeekDataOrHole(nodeId, offset, whence == SeekData);
            if (r < 0) return ENXIO;
            resultOffset = r;
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int CopyFileRange(in FuseContext context, ulong nodeIn, ulong fhIn, long offsetIn, ulong nodeOut, ulong fhOut, long offsetOut, ulong length, ulong flags, out ulong bytesCopied)
    {
        bytesCopied = 0;
        var caller = CallerOf(context);
        try
        {
            byte[] buf = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
            try
            {
                while (bytesCopied < length)
                {
                    int want = (int)Math.Min((ulong)buf.Length, length - bytesCopied);
                    int n = _fs.Read(nodeIn, offsetIn + (long)bytesCopied, buf.AsSpan(0, want));
                    if (n == 0) break;
                    _fs.Write(nodeOut, offsetOut + (long)bytesCopied, buf.AsSpan(0, n), caller: caller);
                    bytesCopied += (ulong)n;
                }
            }
            finally { System.Buffers.ArrayPool<byte>.Shared.Return(buf); }
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public void Destroy()
    {
        try { _fs.Flush(durable: true); }
        catch (Exception) { }
    }
}
