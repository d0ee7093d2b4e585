using System.Collections.Concurrent;
using AgentFs.Fuse.Protocol;

namespace AgentFs.Fuse;

/// <summary>
/// Directory handles: a listing is taken when a directory is read from its start, and read on by offset.
/// With <see cref="ZeroMessageOpenDir"/> the kernel sends no OPENDIR and no RELEASEDIR (FUSE_NO_OPENDIR_SUPPORT:
/// OPENDIR answered ENOSYS once), and every READDIR comes with handle 0; the listing is then kept per directory,
/// taken again at offset 0 and dropped once read to its end. The offsets are the library's name-hash cookies, so
/// two readers of one directory that share a listing taken at different times neither repeat nor skip an entry
/// that did not change. Without OPENDIR the kernel caches every listing (FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE is its
/// default then), as it does with the flags OpenDir sets.
/// </summary>
public sealed partial class AgentFuseFileSystem
{
    private readonly ConcurrentDictionary<ulong, DirHandle> _dirs = new();
    private long _nextFh = 1;

    /// <summary>Listings of directories read without an OPENDIR (handle 0), by directory.</summary>
    private readonly ConcurrentDictionary<ulong, DirHandle> _listingsByDirectory = new();

    /// <summary>Listings kept by directory at most; past it they are all dropped (a reader in the middle of one
    /// takes it again, and reads on by cookie).</summary>
    private const int MaxListingsByDirectory = 1024;

    /// <summary>Answer OPENDIR with ENOSYS, so the kernel stops sending OPENDIR and RELEASEDIR (two requests per
    /// directory read). Default: on.</summary>
    public bool ZeroMessageOpenDir { get; init; } = true;

    private sealed class DirHandle
    {
        public ulong Ino;
        public List<DirectoryEntry>? Entries;
    }

    /// <inheritdoc/>
    public int OpenDir(in FuseContext context, ulong nodeId, int flags, ref FuseOpenOut open)
    {
        if (ZeroMessageOpenDir) return Errno.ENOSYS; // the kernel remembers (fc->no_opendir) and opens with handle 0
        try
        {
            var a = _inodes.GetAttr(nodeId);
            if (!a.IsDirectory) return Errno.ENOTDIR;
            ulong fh = (ulong)Interlocked.Increment(ref _nextFh);
            _dirs[fh] = new DirHandle { Ino = nodeId };
            open.Fh = fh;
            // The kernel may keep the listing in the directory's page cache and serve the next opendir+getdents
            // from it: it drops it itself when it changes the directory (create, unlink, rename bump the inode
            // version), and ForgetEverythingCached drops it (NotifyInvalInode) when a rollback changes it behind.
            open.OpenFlags = FuseOpenFlags.CacheDir | FuseOpenFlags.KeepCache;
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    private List<DirectoryEntry> Entries(ulong nodeId, ulong fh, long offset)
    {
        DirHandle h;
        if (fh == 0)
        {
            if (_listingsByDirectory.Count >= MaxListingsByDirectory) _listingsByDirectory.Clear();
            h = _listingsByDirectory.GetOrAdd(nodeId, static ino => new DirHandle { Ino = ino });
        }
        else h = _dirs.GetOrAdd(fh, _ => new DirHandle { Ino = nodeId });
        // A listing is taken at the start (offset 0, also after rewinddir) and read on by cookie.
        var entries = h.Entries;
        if (entries == null || offset == 0) h.Entries = entries = _inodes.ReadDirectory(nodeId);
        return entries;
    }

    /// <summary>A reader without a handle asked past the last entry (the kernel's last READDIR of a listing): the
    /// listing is dropped.</summary>
    private void ListingRead(ulong nodeId, ulong fh)
    {
        if (fh == 0) _listingsByDirectory.TryRemove(nodeId, out _);
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

    /// <inheritdoc/>
    public int ReadDir(in FuseContext context, ulong nodeId, ulong fh, long offset, ref FuseDirWriter writer)
    {
        try
        {
            var list = Entries(nodeId, fh, offset);
            if (offset < 1 && !writer.Add("."u8, nodeId, 4, 1)) return 0;
            if (offset < 2 && !writer.Add(".."u8, nodeId, 4, 2)) return 0;
            int first = FirstAfter(list, Math.Max(offset, 2));
            if (first == list.Count) ListingRead(nodeId, fh);
            for (int i = first; i < list.Count; i++)
            {
                var e = list[i];
                if (!writer.Add(e.Name, e.Ino, e.Mode >> 12, e.Offset)) break;
            }
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    /// <inheritdoc/>
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
            int first = FirstAfter(list, Math.Max(offset, 2));
            if (first == list.Count) ListingRead(nodeId, fh);
            for (int i = first; i < list.Count; i++)
            {
                var d = list[i];
                var entry = default(FuseEntryOut);
                // An entry of readdirplus is a lookup for the kernel: look it up (which also finds base files
                // never looked up before), and count it only if the entry fits.
                InodeAttributes a;
                try { a = _inodes.Lookup(nodeId, d.Name); }
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
                // Not handed out when it does not fit: not counted. (The view keeps remembering where it lives: telling
                // it to forget here could race with a lookup of the same inode that has not counted yet.)
                if (!writer.Add(d.Name, entry, d.Offset)) break;
                _references.Add(a.Ino);
            }
            return 0;
        }
        catch (Exception e) { return Fail(e); }
    }

    /// <inheritdoc/>
    public int ReleaseDir(in FuseContext context, ulong nodeId, ulong fh)
    {
        _dirs.TryRemove(fh, out _);
        return 0;
    }
}
