using System.Buffers;

namespace AgentFs.Versions;

/// <summary>
/// A read-only file system view of one state, addressed by byte paths ("" is the root), with the lookups it
/// made cached. Uses only the inode API of <see cref="AgentFileSystem"/> (Lookup registers where a base
/// object lives, so Read and ReadDirectory work on it afterwards). Counts its work for <see cref="DiffStats"/>.
/// </summary>
internal sealed class StateView : IDisposable
{
    private readonly Dictionary<byte[], Node?> _resolved = new(ByteArrayComparer.Instance);
    private readonly DiffStats _stats;

    public readonly record struct Node(ulong Ino, InodeAttributes Attributes)
    {
        public bool IsDirectory => Attributes.IsDirectory;
        public FileType Type => FileVersion.TypeOf(Attributes.Mode);
    }

    public StateView(AgentStore store, StoreState state, DiffStats stats)
    {
        State = state;
        _stats = stats;
        Fs = store.OpenStateFileSystem(state);
        _resolved[[]] = new Node(InodeNumbers.Root, Fs.Inodes.GetAttr(InodeNumbers.Root));
    }

    public StoreState State { get; }
    public AgentFileSystem Fs { get; }

    /// <summary>The object at a path (no symlink followed), or null when nothing is there.</summary>
    public Node? Resolve(byte[] path)
    {
        if (_resolved.TryGetValue(path, out var hit)) return hit;
        int slash = path.AsSpan().LastIndexOf((byte)'/');
        byte[] parentPath = slash < 0 ? [] : path[..slash];
        byte[] name = slash < 0 ? path : path[(slash + 1)..];
        Node? result = null;
        if (Resolve(parentPath) is { IsDirectory: true } parent && name.Length > 0)
        {
            try { result = Lookup(parent.Ino, name); }
            catch (AgentFsException e) { throw Store.StoreCorruption.AtPath(e, path); }
        }
        _resolved[path] = result;
        return result;
    }

    /// <summary>An entry of a directory, or null.</summary>
    public Node? Lookup(ulong dir, byte[] name)
    {
        _stats.Lookups++;
        try
        {
            var a = Fs.Inodes.Lookup(dir, name);
            return new Node(a.Ino, a);
        }
        catch (AgentFsException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR or Errno.ESTALE) { return null; }
    }

    /// <summary>The entries of a directory (at path) with their objects, sorted by name (bytes).</summary>
    public List<(byte[] Name, Node Node)> List(Node dir, byte[] path)
    {
        _stats.DirectoryListings++;
        var list = new List<(byte[], Node)>();
        List<DirectoryEntry> entries;
        try { entries = Fs.Inodes.ReadDirectory(dir.Ino); }
        catch (AgentFsException e) { throw Store.StoreCorruption.AtPath(e, path); }
        foreach (var e in entries)
        {
            Node? n;
            try { n = Lookup(dir.Ino, e.Name); }
            catch (AgentFsException x) { throw Store.StoreCorruption.AtPath(x, TreeDiffer.Join(path, e.Name)); }
            if (n != null) list.Add((e.Name, n.Value));
        }
        list.Sort(static (a, b) => a.Item1.AsSpan().SequenceCompareTo(b.Item1));
        return list;
    }

    public byte[] ReadLink(Node n) => Fs.Inodes.ReadLink(n.Ino);

    public FileVersion Version(Node n) => new(n.Ino, n.Attributes.Mode, n.Attributes.Size, n.Attributes.Rdev,
        n.Attributes.IsSymlink ? ReadLink(n) : null);

    /// <summary>The whole content of a regular file.</summary>
    public byte[] ReadAll(ulong ino, long size, byte[] pathForErrors)
    {
        if (size > Array.MaxLength)
            throw new AgentFsException(Errno.EFBIG, $"{System.Text.Encoding.UTF8.GetString(pathForErrors)} in {State} is {size} bytes, too large to hold in memory for a diff");
        var data = new byte[size];
        int done = 0;
        try
        {
            while (done < data.Length)
            {
                int n = Fs.Inodes.Read(ino, done, data.AsSpan(done, Math.Min(data.Length - done, 1 << 20)));
                if (n == 0) break;
                done += n;
            }
        }
        catch (AgentFsException e) { throw Store.StoreCorruption.AtPath(e, pathForErrors); }
        return done == data.Length ? data : data[..done];
    }

    /// <summary>Streams the content of a regular file (at path) in pieces (the span is valid only during the callback).</summary>
    public void ReadChunks(ulong ino, long size, byte[] path, Action<ReadOnlySpan<byte>> consume)
    {
        byte[] buf = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long pos = 0;
            while (pos < size)
            {
                int n;
                try { n = Fs.Inodes.Read(ino, pos, buf.AsSpan(0, (int)Math.Min(buf.Length, size - pos))); }
                catch (AgentFsException e) { throw Store.StoreCorruption.AtPath(e, path); }
                if (n == 0) break;
                consume(buf.AsSpan(0, n));
                pos += n;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buf); }
    }

    public void Dispose() => Fs.Dispose();
}

/// <summary>What a diff did: rows of the layers it read, lookups and directory listings. A test checks these
/// stay the same whatever the size of the tree (cost grows with the changes only).</summary>
internal sealed class DiffStats
{
    public int Layers, DentryRows, InodeRows, Lookups, DirectoryListings, Candidates;

    public override string ToString() =>
        $"layers={Layers} dentry_rows={DentryRows} inode_rows={InodeRows} lookups={Lookups} listings={DirectoryListings} candidates={Candidates}";
}
