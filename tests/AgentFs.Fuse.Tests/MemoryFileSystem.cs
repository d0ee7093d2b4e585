using System.Runtime.InteropServices;
using System.Text;
using AgentFs.Fuse.Protocol;

namespace AgentFs.Fuse.Tests;

/// <summary>Errno values the test filesystem answers with.</summary>
internal static class E
{
    public const int EPERM = 1, ENOENT = 2, EINTR = 4, EIO = 5, EEXIST = 17, ENOTDIR = 20, EISDIR = 21, EINVAL = 22,
        ERANGE = 34, ENOTEMPTY = 39, ENODATA = 61;
}

/// <summary>
/// A small in-memory filesystem on <see cref="IFuseFileSystem"/>, one lock around everything. Enough of POSIX
/// for the mount tests, plus hooks to change the tree behind the kernel's back and to count calls.
/// </summary>
internal sealed class MemoryFileSystem : IFuseFileSystem
{
    private const uint S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFREG = 0x8000, S_IFLNK = 0xA000;
    private const int O_TRUNC = 0x200;

    private readonly object _lock = new();
    private readonly Dictionary<ulong, Node> _nodes = new();
    private readonly Dictionary<ulong, int> _backingIds = new();
    private ulong _nextId = 2;
    private ulong _nextFh = 1;

    public MemoryFileSystem(TimeSpan? timeout = null)
    {
        Timeout = timeout ?? TimeSpan.FromSeconds(1);
        var root = new Node(1, S_IFDIR | 0x1ED /* 0755 */) { Nlink = 2 };
        root.Parent = 1;
        _nodes[1] = root;
    }

    public TimeSpan Timeout { get; }

    public FuseSession? Session { get; set; }

    public FuseConnectionInfo? Connection { get; private set; }

    public string? PassthroughBackingPath { get; set; }

    public int Reads;
    public int Writes;
    public int Interrupts;
    public int PassthroughOpens;
    public bool Destroyed;

    private sealed class Node(ulong id, uint mode)
    {
        public readonly ulong Id = id;
        public uint Mode = mode;
        public uint Uid, Gid;
        public uint Nlink = 1;
        public ulong Parent;
        public byte[] Data = [];
        public long Length;
        public byte[] Target = [];
        public readonly Dictionary<string, ulong> Children = new(StringComparer.Ordinal);
        public readonly Dictionary<string, byte[]> Xattrs = new(StringComparer.Ordinal);
        public long Lookups;
        public DateTimeOffset Mtime = DateTimeOffset.UtcNow, Ctime = DateTimeOffset.UtcNow, Atime = DateTimeOffset.UtcNow;
        public bool IsDir => (Mode & S_IFMT) == S_IFDIR;
    }

    private static string Key(ReadOnlySpan<byte> name) => Encoding.Latin1.GetString(name);

    // ---- hooks for tests -------------------------------------------------------------------------

    /// <summary>Creates or replaces a file in the root without telling the kernel.</summary>
    public ulong PutFileBehindKernel(string name, byte[] content)
    {
        lock (_lock)
        {
            Node root = _nodes[1];
            if (!root.Children.TryGetValue(name, out ulong id))
            {
                var node = NewNode(S_IFREG | 0x1A4, 1);
                root.Children[name] = node.Id;
                id = node.Id;
            }
            Node file = _nodes[id];
            file.Data = (byte[])content.Clone();
            file.Length = content.Length;
            return id;
        }
    }

    public byte[] ContentOf(string name)
    {
        lock (_lock)
        {
            Node node = _nodes[_nodes[1].Children[name]];
            return node.Data.AsSpan(0, (int)node.Length).ToArray();
        }
    }

    public ulong? NodeIdOf(string name)
    {
        lock (_lock)
            return _nodes[1].Children.TryGetValue(name, out ulong id) ? id : null;
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private Node NewNode(uint mode, ulong parent)
    {
        var node = new Node(_nextId++, mode) { Parent = parent };
        _nodes[node.Id] = node;
        return node;
    }

    private static void FillAttr(Node node, ref FuseAttr attr)
    {
        attr.Ino = node.Id;
        attr.Mode = node.Mode;
        attr.Nlink = node.Nlink;
        attr.Uid = node.Uid;
        attr.Gid = node.Gid;
        attr.Size = (ulong)((node.Mode & S_IFMT) == S_IFLNK ? node.Target.Length : node.Length);
        attr.Blocks = (attr.Size + 511) / 512;
        attr.BlkSize = 4096;
        SetTime(node.Atime, out attr.Atime, out attr.AtimeNsec);
        SetTime(node.Mtime, out attr.Mtime, out attr.MtimeNsec);
        SetTime(node.Ctime, out attr.Ctime, out attr.CtimeNsec);
    }

    private static void SetTime(DateTimeOffset time, out ulong seconds, out uint nanoseconds)
    {
        long ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        seconds = (ulong)(ticks / TimeSpan.TicksPerSecond);
        nanoseconds = (uint)(ticks % TimeSpan.TicksPerSecond * 100);
    }

    private static DateTimeOffset FromTime(ulong seconds, uint nanoseconds) =>
        DateTimeOffset.UnixEpoch.AddTicks((long)seconds * TimeSpan.TicksPerSecond + nanoseconds / 100);

    private void FillEntry(Node node, ref FuseEntryOut entry)
    {
        entry.NodeId = node.Id;
        entry.Generation = 1;
        entry.SetTimeouts(Timeout, Timeout);
        FillAttr(node, ref entry.Attr);
        node.Lookups++;
    }

    private int Child(ulong parent, ReadOnlySpan<byte> name, out Node? child)
    {
        child = null;
        if (!_nodes.TryGetValue(parent, out Node? dir))
            return E.ENOENT;
        if (!dir.IsDir)
            return E.ENOTDIR;
        string key = Key(name);
        if (key == ".")
        {
            child = dir;
            return 0;
        }
        if (key == "..")
        {
            child = _nodes[dir.Parent];
            return 0;
        }
        if (!dir.Children.TryGetValue(key, out ulong id))
            return E.ENOENT;
        child = _nodes[id];
        return 0;
    }

    private int Make(ulong parent, ReadOnlySpan<byte> name, uint mode, in FuseContext context, ref FuseEntryOut entry, out Node? node)
    {
        node = null;
        if (!_nodes.TryGetValue(parent, out Node? dir) || !dir.IsDir)
            return E.ENOENT;
        string key = Key(name);
        if (dir.Children.ContainsKey(key))
            return E.EEXIST;
        node = NewNode(mode, parent);
        node.Uid = context.Uid;
        node.Gid = context.Gid;
        if (node.IsDir)
        {
            node.Nlink = 2;
            dir.Nlink++;
        }
        dir.Children[key] = node.Id;
        dir.Mtime = dir.Ctime = DateTimeOffset.UtcNow;
        FillEntry(node, ref entry);
        return 0;
    }

    private static void Resize(Node node, long length)
    {
        if (length > node.Data.Length)
        {
            var bigger = new byte[Math.Max(length, node.Data.Length * 2L)];
            node.Data.AsSpan(0, (int)node.Length).CopyTo(bigger);
            node.Data = bigger;
        }
        else if (length < node.Length)
        {
            node.Data.AsSpan((int)length, (int)(node.Length - length)).Clear();
        }
        node.Length = length;
    }

    // ---- IFuseFileSystem -------------------------------------------------------------------------

    public int Init(FuseConnectionInfo connection)
    {
        Connection = connection;
        return 0;
    }

    public void Destroy() => Destroyed = true;

    public int Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ref FuseEntryOut entry)
    {
        lock (_lock)
        {
            int error = Child(parent, name, out Node? child);
            if (error == E.ENOENT && _nodes.ContainsKey(parent))
            {
                // A negative entry: the kernel remembers the absence for the entry timeout.
                entry.NodeId = 0;
                entry.SetTimeouts(Timeout, TimeSpan.Zero);
                return 0;
            }
            if (error != 0)
                return error;
            FillEntry(child!, ref entry);
            return 0;
        }
    }

    public void Forget(ulong nodeId, ulong nlookup)
    {
        lock (_lock)
            if (_nodes.TryGetValue(nodeId, out Node? node))
                node.Lookups -= (long)nlookup;
    }

    public int GetAttr(in FuseContext context, ulong nodeId, ulong? fh, ref FuseAttrOut attr)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(nodeId, out Node? node))
                return E.ENOENT;
            attr.SetTimeout(Timeout);
            FillAttr(node, ref attr.Attr);
            return 0;
        }
    }

    public int SetAttr(in FuseContext context, ulong nodeId, in FuseSetAttrIn changes, ref FuseAttrOut attr)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(nodeId, out Node? node))
                return E.ENOENT;
            if (changes.Has(FuseSetAttrValid.Mode))
                node.Mode = (node.Mode & S_IFMT) | (changes.Mode & 0xFFF);
            if (changes.Has(FuseSetAttrValid.Uid))
                node.Uid = changes.Uid;
            if (changes.Has(FuseSetAttrValid.Gid))
                node.Gid = changes.Gid;
            if (changes.Has(FuseSetAttrValid.Size))
            {
                if (node.IsDir)
                    return E.EISDIR;
                Resize(node, (long)changes.Size);
                node.Mtime = DateTimeOffset.UtcNow;
            }
            if (changes.Has(FuseSetAttrValid.Atime))
                node.Atime = FromTime(changes.Atime, changes.AtimeNsec);
            if (changes.Has(FuseSetAttrValid.AtimeNow))
                node.Atime = DateTimeOffset.UtcNow;
            if (changes.Has(FuseSetAttrValid.Mtime))
                node.Mtime = FromTime(changes.Mtime, changes.MtimeNsec);
            if (changes.Has(FuseSetAttrValid.MtimeNow))
                node.Mtime = DateTimeOffset.UtcNow;
            node.Ctime = changes.Has(FuseSetAttrValid.Ctime) ? FromTime(changes.Ctime, changes.CtimeNsec) : DateTimeOffset.UtcNow;
            attr.SetTimeout(Timeout);
            FillAttr(node, ref attr.Attr);
            return 0;
        }
    }

    public int ReadLink(in FuseContext context, ulong nodeId, Span<byte> target, out int length)
    {
        lock (_lock)
        {
            length = 0;
            if (!_nodes.TryGetValue(nodeId, out Node? node) || (node.Mode & S_IFMT) != S_IFLNK)
                return E.EINVAL;
            node.Target.CopyTo(target);
            length = node.Target.Length;
            return 0;
        }
    }

    public int Symlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, ref FuseEntryOut entry)
    {
        lock (_lock)
        {
            int error = Make(parent, name, S_IFLNK | 0x1FF, context, ref entry, out Node? node);
            if (error == 0)
            {
                node!.Target = target.ToArray();
                FillAttr(node, ref entry.Attr);
            }
            return error;
        }
    }

    public int Mknod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, uint umask, ref FuseEntryOut entry)
    {
        lock (_lock)
            return Make(parent, name, mode & ~umask, context, ref entry, out _);
    }

    public int Mkdir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, ref FuseEntryOut entry)
    {
        lock (_lock)
            return Make(parent, name, mode & ~umask, context, ref entry, out _);
    }

    public int Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name)
    {
        lock (_lock)
        {
            int error = Child(parent, name, out Node? child);
            if (error != 0)
                return error;
            if (child!.IsDir)
                return E.EISDIR;
            _nodes[parent].Children.Remove(Key(name));
            child.Nlink--;
            return 0;
        }
    }

    public int Rmdir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name)
    {
        lock (_lock)
        {
            int error = Child(parent, name, out Node? child);
            if (error != 0)
                return error;
            if (!child!.IsDir)
                return E.ENOTDIR;
            if (child.Children.Count > 0)
                return E.ENOTEMPTY;
            _nodes[parent].Children.Remove(Key(name));
            _nodes[parent].Nlink--;
            child.Nlink = 0;
            return 0;
        }
    }

    public int Rename(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, uint flags)
    {
        lock (_lock)
        {
            if ((flags & ~(FuseRequestFlags.RenameNoReplace | FuseRequestFlags.RenameExchange)) != 0)
                return E.EINVAL;
            int error = Child(parent, name, out Node? source);
            if (error != 0)
                return error;
            Node from = _nodes[parent], to = _nodes[newParent];
            string oldKey = Key(name), newKey = Key(newName);
            bool exists = to.Children.TryGetValue(newKey, out ulong existing);
            if ((flags & FuseRequestFlags.RenameNoReplace) != 0 && exists)
                return E.EEXIST;
            if ((flags & FuseRequestFlags.RenameExchange) != 0)
            {
                if (!exists)
                    return E.ENOENT;
                from.Children[oldKey] = existing;
                to.Children[newKey] = source!.Id;
                return 0;
            }
            if (exists)
            {
                Node target = _nodes[existing];
                if (target.IsDir && target.Children.Count > 0)
                    return E.ENOTEMPTY;
                target.Nlink--;
            }
            from.Children.Remove(oldKey);
            to.Children[newKey] = source!.Id;
            source.Parent = newParent;
            source.Ctime = DateTimeOffset.UtcNow;
            return 0;
        }
    }

    public int Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, ref FuseEntryOut entry)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(nodeId, out Node? node) || !_nodes.TryGetValue(newParent, out Node? dir))
                return E.ENOENT;
            if (node.IsDir)
                return E.EPERM;
            string key = Key(newName);
            if (dir.Children.ContainsKey(key))
                return E.EEXIST;
            dir.Children[key] = node.Id;
            node.Nlink++;
            FillEntry(node, ref entry);
            return 0;
        }
    }

    public int Open(in FuseContext context, ulong nodeId, int flags, uint openFlags, ref FuseOpenOut open)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(nodeId, out Node? node))
                return E.ENOENT;
            if ((flags & O_TRUNC) != 0)
                Resize(node, 0);
            open.Fh = _nextFh++;
            open.OpenFlags = FuseOpenFlags.KeepCache;
            if (IsNamed(node, "slow"))
                open.OpenFlags = FuseOpenFlags.DirectIo;
            if (IsNamed(node, "passthrough.bin") && PassthroughBackingPath is { } backingPath && Session is { } session)
            {
                using var backing = File.OpenHandle(backingPath, FileMode.Open, FileAccess.ReadWrite);
                int error = session.OpenBacking(backing, out int backingId);
                if (error != 0)
                    return error;
                _backingIds[open.Fh] = backingId;
                open.OpenFlags = FuseOpenFlags.Passthrough;
                open.BackingId = backingId;
                PassthroughOpens++;
            }
            return 0;
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private bool IsNamed(Node node, string name) =>
        _nodes.TryGetValue(node.Parent, out Node? parent) && parent.Children.TryGetValue(name, out ulong id) && id == node.Id;

    public int Create(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, int flags, uint mode, uint umask, ref FuseEntryOut entry, ref FuseOpenOut open)
    {
        lock (_lock)
        {
            int error = Make(parent, name, (mode & ~umask & 0xFFF) | S_IFREG, context, ref entry, out _);
            if (error != 0)
                return error;
            open.Fh = _nextFh++;
            return 0;
        }
    }

    [ThreadStatic] private static long t_allocatedAtLastRead;

    /// <summary>Most bytes a reader thread allocated between two consecutive READs (after the first few).</summary>
    public long MaxAllocatedBetweenReads;

    public bool TrackReadAllocations { get; set; }

    public int Read(in FuseContext context, ulong nodeId, ulong fh, long offset, Span<byte> buffer, out int bytesRead)
    {
        int reads = Interlocked.Increment(ref Reads);
        if (TrackReadAllocations)
        {
            long now = GC.GetAllocatedBytesForCurrentThread();
            if (t_allocatedAtLastRead != 0 && reads > 8)
                InterlockedMax(ref MaxAllocatedBetweenReads, now - t_allocatedAtLastRead);
            t_allocatedAtLastRead = GC.GetAllocatedBytesForCurrentThread();
        }
        bytesRead = 0;
        bool slow;
        lock (_lock)
        {
            if (!_nodes.TryGetValue(nodeId, out Node? node))
                return E.ENOENT;
            slow = IsNamed(node, "slow");
            if (!slow)
            {
                if (offset >= node.Length)
                    return 0;
                int count = (int)Math.Min(buffer.Length, node.Length - offset);
                node.Data.AsSpan((int)offset, count).CopyTo(buffer);
                bytesRead = count;
                return 0;
            }
        }
        // "slow" blocks until the caller is interrupted (or 10 s pass).
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (context.IsInterrupted)
            {
                Interlocked.Increment(ref Interrupts);
                return E.EINTR;
            }
            Thread.Sleep(5);
        }
        return E.EIO;
    }

    public int Write(in FuseContext context, ulong nodeId, ulong fh, long offset, ReadOnlySpan<byte> data, uint writeFlags, out int bytesWritten)
    {
        Interlocked.Increment(ref Writes);
        lock (_lock)
        {
            bytesWritten = 0;
            if (!_nodes.TryGetValue(nodeId, out Node? node))
                return E.ENOENT;
            long end = offset + data.Length;
            if (end > node.Length)
                Resize(node, end);
            data.CopyTo(node.Data.AsSpan((int)offset));
            node.Mtime = node.Ctime = DateTimeOffset.UtcNow;
            bytesWritten = data.Length;
            return 0;
        }
    }

    public int Flush(in FuseContext context, ulong nodeId, ulong fh, ulong lockOwner) => 0;

    public int Release(in FuseContext context, ulong nodeId, ulong fh, int flags, uint releaseFlags)
    {
        lock (_lock)
        {
            if (_backingIds.Remove(fh, out int backingId))
                Session?.CloseBacking(backingId);
            return 0;
        }
    }

    public int Fsync(in FuseContext context, ulong nodeId, ulong fh, bool dataOnly) => 0;

    public int ReadDir(in FuseContext context, ulong nodeId, ulong fh, long offset, ref FuseDirWriter writer)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(nodeId, out Node? dir) || !dir.IsDir)
                return E.ENOTDIR;
            int index = 0;
            foreach ((string name, ulong id, uint mode) in Listing(dir))
            {
                index++;
                if (index <= offset)
                    continue;
                if (!writer.Add(Encoding.Latin1.GetBytes(name), id, FuseDirWriter.TypeFromMode(mode), index))
                    break;
            }
            return 0;
        }
    }

    public int ReadDirPlus(in FuseContext context, ulong nodeId, ulong fh, long offset, ref FuseDirPlusWriter writer)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(nodeId, out Node? dir) || !dir.IsDir)
                return E.ENOTDIR;
            int index = 0;
            foreach ((string name, ulong id, uint _) in Listing(dir))
            {
                index++;
                if (index <= offset)
                    continue;
                byte[] nameBytes = Encoding.Latin1.GetBytes(name);
                Node node = _nodes[id];
                var entry = new FuseEntryOut();
                bool counts = !FuseDirPlusWriter.IsDotOrDotDot(nameBytes);
                if (counts)
                {
                    entry.NodeId = id;
                    entry.Generation = 1;
                    entry.SetTimeouts(Timeout, Timeout);
                }
                FillAttr(node, ref entry.Attr);
                if (!writer.Add(nameBytes, in entry, index))
                    break;
                if (counts)
                    node.Lookups++;
            }
            return 0;
        }
    }

    private IEnumerable<(string Name, ulong Id, uint Mode)> Listing(Node dir)
    {
        yield return (".", dir.Id, dir.Mode);
        yield return ("..", dir.Parent, _nodes[dir.Parent].Mode);
        foreach ((string name, ulong id) in dir.Children.OrderBy(c => c.Key, StringComparer.Ordinal))
            yield return (name, id, _nodes[id].Mode);
    }

    public int StatFs(in FuseContext context, ulong nodeId, ref FuseKstatfs stat)
    {
        stat.Blocks = 1 << 20;
        stat.Bfree = stat.Bavail = 1 << 19;
        stat.Files = 1 << 20;
        stat.Ffree = 1 << 19;
        stat.Bsize = stat.Frsize = 4096;
        stat.NameLen = 255;
        return 0;
    }

    public int SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, int flags)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(nodeId, out Node? node))
                return E.ENOENT;
            string key = Key(name);
            bool exists = node.Xattrs.ContainsKey(key);
            if (flags == 1 && exists)
                return E.EEXIST;
            if (flags == 2 && !exists)
                return E.ENODATA;
            node.Xattrs[key] = value.ToArray();
            return 0;
        }
    }

    public int GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value, out int size)
    {
        lock (_lock)
        {
            size = 0;
            if (!_nodes.TryGetValue(nodeId, out Node? node))
                return E.ENOENT;
            if (!node.Xattrs.TryGetValue(Key(name), out byte[]? stored))
                return E.ENODATA;
            size = stored.Length;
            if (value.IsEmpty)
                return 0;
            if (stored.Length > value.Length)
                return E.ERANGE;
            stored.CopyTo(value);
            return 0;
        }
    }

    public int ListXattr(in FuseContext context, ulong nodeId, Span<byte> list, out int size)
    {
        lock (_lock)
        {
            size = 0;
            if (!_nodes.TryGetValue(nodeId, out Node? node))
                return E.ENOENT;
            var all = new List<byte>();
            foreach (string key in node.Xattrs.Keys.Order(StringComparer.Ordinal))
            {
                all.AddRange(Encoding.Latin1.GetBytes(key));
                all.Add(0);
            }
            size = all.Count;
            if (list.IsEmpty)
                return 0;
            if (all.Count > list.Length)
                return E.ERANGE;
            CollectionsMarshal.AsSpan(all).CopyTo(list);
            return 0;
        }
    }

    public int RemoveXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(nodeId, out Node? node))
                return E.ENOENT;
            return node.Xattrs.Remove(Key(name)) ? 0 : E.ENODATA;
        }
    }

    public int Access(in FuseContext context, ulong nodeId, int mask) => 0;
}
