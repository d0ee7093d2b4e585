using System.Collections.Concurrent;
using AgentFs.Store;

namespace AgentFs;

/// <summary>
/// The path each logged operation acted on, at the time it happened. Operations arrive by inode (FUSE) or by
/// path (the path API, which resolves to inodes through the same lookups), so the view remembers where it last
/// saw each inode named: (directory, name) from every lookup, create, link and rename. The path of an inode is
/// then that walk up to the root, as the names were when the operation ran; a later rename or delete does not
/// change what the log says. The map is bounded (cleared past <see cref="NameMemoryLimit"/> entries); an inode
/// whose name was never seen (or forgotten) is logged with its base-relative origin when it has one, else with
/// no path (the log still names its inode).
/// </summary>
public sealed partial class AgentFileSystem
{
    private const int NameMemoryLimit = 1 << 18;
    private const int MaxPathDepth = 4096;
    private readonly ConcurrentDictionary<ulong, NamedAt> _lastNames = new();
    private int _lastNamesCount;

    private readonly record struct NamedAt(ulong Parent, byte[] Name);

    /// <summary>Remembers that ino is (now) name in directory parent. Called on every lookup: two writes, no I/O.</summary>
    private void NoteName(ulong ino, ulong parent, byte[] name)
    {
        if (ino == InodeNumbers.Root) return;
        if (_lastNames.TryGetValue(ino, out var known) && known.Parent == parent && known.Name.AsSpan().SequenceEqual(name)) return;
        if (Interlocked.Increment(ref _lastNamesCount) > NameMemoryLimit)
        {
            _lastNames.Clear();
            Interlocked.Exchange(ref _lastNamesCount, 0);
        }
        _lastNames[ino] = new NamedAt(parent, name);
    }

    /// <summary>The path (relative to the branch root, '.' for the root) of name in directory parent, or null when
    /// where parent is cannot be told.</summary>
    private byte[]? PathOf(ulong parent, byte[] name)
    {
        if (parent == InodeNumbers.Root) return name;
        var dir = PathOf(parent);
        if (dir == null) return null;
        var path = new byte[dir.Length + 1 + name.Length];
        dir.CopyTo(path, 0);
        path[dir.Length] = (byte)'/';
        name.CopyTo(path, dir.Length + 1);
        return path;
    }

    /// <summary>The path of an inode as last seen named, or its base origin, or null.</summary>
    private byte[]? PathOf(ulong ino)
    {
        if (ino == InodeNumbers.Root) return "."u8.ToArray();
        var names = new List<byte[]>();
        int length = -1;
        ulong cur = ino;
        while (cur != InodeNumbers.Root)
        {
            if (names.Count >= MaxPathDepth || !_lastNames.TryGetValue(cur, out var at))
                return _nodes.TryGetValue(ino, out var ns) && ns.Origin is { Length: > 0 } origin ? origin : null;
            names.Add(at.Name);
            length += at.Name.Length + 1;
            cur = at.Parent;
        }
        var path = new byte[length];
        int pos = 0;
        for (int i = names.Count - 1; i >= 0; i--)
        {
            names[i].CopyTo(path, pos);
            pos += names[i].Length;
            if (i > 0) path[pos++] = (byte)'/';
        }
        return path;
    }

    /// <summary>The paths of one operation, worked out under the write lock before the names change
    /// (for a rename: from and to) and the name memory updated after it.</summary>
    private (byte[]? Path, byte[]? To) OperationPaths(string op, ulong ino, ulong parent, byte[]? name, ulong toParent, byte[]? toName, ulong exchanged)
    {
        byte[]? path = name != null ? PathOf(parent, name) : PathOf(ino);
        byte[]? to = toName != null ? PathOf(toParent, toName) : null;
        switch (op)
        {
            case "rename":
                if (toName != null) NoteName(ino, toParent, toName);
                if (exchanged != 0 && name != null) NoteName(exchanged, parent, name);
                break;
            case "unlink" or "rmdir":
                break;
            default:
                if (name != null) NoteName(ino, parent, name);
                break;
        }
        return (path, to);
    }
}
