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
/// changes behind the kernel (a rollback), the library's BeforeStateReplaced and StateReplaced events make the
/// adapter write back and drop what the kernel cached.
/// Open files keep their page cache across opens (KeepCache) unless the file changed since it was cached.
/// </summary>
public sealed partial class AgentFuseFileSystem : IFuseFileSystem
{
    private readonly AgentFileSystem _fs;
    private readonly AgentFileSystem.InodeOperations _inodes;

    public AgentFuseFileSystem(AgentFileSystem fs, TimeSpan? entryTimeout = null)
    {
        _fs = fs;
        _inodes = fs.Inodes;
        _references = new KernelReferences(fs);
        EntryTimeout = entryTimeout ?? TimeSpan.FromHours(1);
        fs.BeforeStateReplaced += WriteBackAndDropPages;
        fs.StateReplaced += ForgetEverythingCached;
    }

    public AgentFileSystem FileSystem => _fs;
    public TimeSpan EntryTimeout { get; }
    public FuseSession? Session { get; set; }

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
            if (_inodes.TryLookup(parent, name, out var attributes))
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
            if (!_inodes.TryGetAttr(nodeId, out var attributes)) return Errno.ESTALE;
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
            if (!_inodes.TryGetAttr(nodeId, out _)) return Errno.ESTALE;
            var f = (SetAttrFields)((uint)changes.Valid & (uint)(SetAttrFields.Mode | SetAttrFields.Uid | SetAttrFields.Gid | SetAttrFields.Size |
                SetAttrFields.Atime | SetAttrFields.Mtime | SetAttrFields.AtimeNow | SetAttrFields.MtimeNow | SetAttrFields.Ctime));
            var req = new SetAttrRequest(f, changes.Mode, changes.Uid, changes.Gid, (long)changes.Size,
                (long)changes.Atime * 1_000_000_000 + changes.AtimeNsec,
                (long)changes.Mtime * 1_000_000_000 + changes.MtimeNsec,
                (long)changes.Ctime * 1_000_000_000 + changes.CtimeNsec);
            var result = _inodes.SetAttr(nodeId, req, CallerOf(context));
            // FUSE_HANDLE_KILLPRIV_V2: a truncation or a change of owner drops the capability attribute, and the
            // set-id bits when the kernel says so (the caller lacks CAP_FSETID, or a chown of a non-directory).
            bool killIds = ((uint)changes.Valid & (uint)FuseSetAttrValid.KillSuidGid) != 0;
            if (killIds || (f & (SetAttrFields.Size | SetAttrFields.Uid | SetAttrFields.Gid)) != 0)
            {
                _capabilityNodes.TryRemove(nodeId, out _);
                if (_inodes.KillPrivileges(nodeId, killIds, CallerOf(context)))
                    result = _inodes.GetAttr(nodeId);
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
            byte[] t = _inodes.ReadLink(nodeId);
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
            var a = _inodes.Symlink(parent, name, target, CallerOf(context));
            ReplyNewEntry(parent, name, a, ref entry);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Mknod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, uint umask, ref FuseEntryOut entry)
    {
        try
        {
            var a = _inodes.Mknod(parent, name, mode, rdev, UmaskToApply(umask), CallerOf(context));
            ReplyNewEntry(parent, name, a, ref entry);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Mkdir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, ref FuseEntryOut entry)
    {
        try
        {
            var a = _inodes.Mkdir(parent, name, mode, UmaskToApply(umask), CallerOf(context));
            ReplyNewEntry(parent, name, a, ref entry);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name)
    {
        try
        {
            _inodes.Unlink(parent, name, CallerOf(context));
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Rmdir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name)
    {
        try
        {
            _inodes.Rmdir(parent, name, CallerOf(context));
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
            _inodes.Rename(parent, name, newParent, newName, rf, CallerOf(context));
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, ref FuseEntryOut entry)
    {
        try
        {
            var a = _inodes.Link(nodeId, newParent, newName, CallerOf(context));
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
            if (TryOpenPassthrough(nodeId, flags, ref open, out int result)) return result;
            _inodes.Open(nodeId, trunc, CallerOf(context));
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
            if (_inodes.KillPrivileges(nodeId, killIds, caller))
                Session?.NotifyInvalInode(nodeId, -1);
        }
        else if (_inodes.HasXattr(nodeId, AgentFileSystem.CapabilityXattr))
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
            var a = _inodes.Create(parent, name, mode, UmaskToApply(umask), CallerOf(context));
            ReplyNewEntry(parent, name, a, ref entry);
            _inodes.Open(a.Ino);
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
            bytesRead = _inodes.Read(nodeId, offset, buffer);
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
            bytesWritten = _inodes.Write(nodeId, offset, data, updateTimes: (writeFlags & FuseRequestFlags.WriteCache) == 0, caller: CallerOf(context));
            bool killIds = (writeFlags & FuseRequestFlags.WriteKillSuidGid) != 0;
            if ((killIds || (_capabilitySeen && _capabilityNodes.TryRemove(nodeId, out _))) &&
                _inodes.KillPrivileges(nodeId, killIds, CallerOf(context)))
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
        if (fh == PassthroughFh) ReleasePassthrough(nodeId);
        try { _inodes.Release(nodeId); }
        catch (Exception) { }
        return 0;
    }

    public int Fsync(in FuseContext context, ulong nodeId, ulong fh, bool dataOnly)
    {
        try
        {
            _inodes.Fsync(nodeId);
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int FsyncDir(in FuseContext context, ulong nodeId, ulong fh, bool dataOnly) => Fsync(context, nodeId, fh, dataOnly);

    public int StatFs(in FuseContext context, ulong nodeId, ref FuseKstatfs stat)
    {
        try
        {
            var s = _inodes.StatFs();
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
            _inodes.SetXattr(nodeId, Encoding.UTF8.GetString(name), value, flags,
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
            byte[]? v = _inodes.TryGetXattr(nodeId, text);
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
            var names = _inodes.ListXattr(nodeId);
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
            _inodes.RemoveXattr(nodeId, Encoding.UTF8.GetString(name), CallerOf(context));
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    public int Access(in FuseContext context, ulong nodeId, int mask)
    {
        try
        {
            _inodes.GetAttr(nodeId);
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
            _inodes.Fallocate(nodeId, offset, length, (FallocateMode)mode, CallerOf(context));
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
            long r = _inodes.SeekDataOrHole(nodeId, offset, whence == SeekData);
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
                    int n = _inodes.Read(nodeIn, offsetIn + (long)bytesCopied, buf.AsSpan(0, want));
                    if (n == 0) break;
                    _inodes.Write(nodeOut, offsetOut + (long)bytesCopied, buf.AsSpan(0, n), caller: caller);
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
