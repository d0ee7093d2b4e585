using System.Collections.Concurrent;
using AgentFs.Fuse.Protocol;

namespace AgentFs.Fuse;

/// <summary>
/// What the kernel holds and caches, and how it is told when the branch changes behind it: the lookup counts, the
/// names it may cache, and, around a rollback, writing back and dropping its pages, names and attributes.
/// </summary>
public sealed partial class AgentFuseFileSystem
{
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
            try { var a = _inodes.GetAttr(ino); sizes[ino] = (a.Size, a.Mode); }
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
            try { var a = _inodes.GetAttr(ino); same = a.Size == was.Size && a.Mode == was.Mode; }
            catch (AgentFsException) { same = false; }
            if (same) continue;
            _replacedAt[ino] = epoch;
            _anyReplaced = true;
        }
    }
}
