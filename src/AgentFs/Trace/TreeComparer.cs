using AgentFs.Store;
using AgentFs.Versions;

namespace AgentFs;

/// <summary>One path whose object differs between two states: what it was (null: absent) and what it is.</summary>
internal sealed record TreeChange(string Path, byte[][] RawPath, InodeAttributes? From, InodeAttributes? To);

/// <summary>
/// Finds the non-directory paths that differ between two states of a store by walking both trees side by side.
///
/// It reads directories and the attributes of entries whose inode differs, never file content: an entry with
/// the same inode number on both sides is unchanged unless that inode has a row in a layer that one chain has
/// and the other has not (the layers where the two states part). So the walk costs a readdir per directory
/// and a lookup per directory and per changed entry; content is read later only for the changed files. (The Diff API in
/// src/AgentFs/Versions/ is meant to do better, in proportion to the changes alone; this walk is the trace's
/// own, to stay independent of it.)
/// </summary>
internal sealed class TreeComparer
{
    private readonly AgentFileSystem _from, _to;
    private readonly HashSet<ulong> _touched;
    private readonly List<TreeChange> _changes = new();

    private TreeComparer(AgentFileSystem from, AgentFileSystem to, HashSet<ulong> touched)
    {
        _from = from;
        _to = to;
        _touched = touched;
    }

    public static List<TreeChange> Compare(AgentStore store, TraceState from, TraceState to, CancellationToken cancel)
    {
        var cmp = new TreeComparer(from.View, to.View, TouchedInodes(store, from.Chain, to.Chain));
        cmp.Walk(InodeNumbers.Root, InodeNumbers.Root, "", [], cancel);
        return cmp._changes;
    }

    /// <summary>Inodes with a row in a layer of one chain and not of the other.</summary>
    private static HashSet<ulong> TouchedInodes(AgentStore store, LayerChain a, LayerChain b)
    {
        var layers = new HashSet<long>(a.Layers);
        layers.SymmetricExceptWith(b.Layers);
        layers.RemoveWhere(l => l <= 0);
        var set = new HashSet<ulong>();
        if (layers.Count == 0) return set;
        return store.Read(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT DISTINCT ino FROM inodes WHERE layer IN ({string.Join(',', layers)})";
            using var rd = cmd.ExecuteReader();
            while (rd.Read()) set.Add((ulong)rd.GetInt64(0));
            return set;
        });
    }

    /// <summary>Compares directory fromDir of the old state with toDir of the new one (0: absent on that side).</summary>
    private void Walk(ulong fromDir, ulong toDir, string prefix, byte[][] rawPrefix, CancellationToken cancel)
    {
        var fromEntries = List(_from, fromDir);
        var toEntries = List(_to, toDir);
        var names = new SortedSet<byte[]>(fromEntries.Keys, ByteOrder.Instance);
        names.UnionWith(toEntries.Keys);
        foreach (var name in names)
        {
            cancel.ThrowIfCancellationRequested();
            bool inFrom = fromEntries.TryGetValue(name, out var f);
            bool inTo = toEntries.TryGetValue(name, out var t);
            bool toIsDir = inTo && PosixMode.IsDirectory(t.Mode);
            bool sameObject = inFrom && inTo && f.Ino == t.Ino && f.Mode == t.Mode && !_touched.Contains(t.Ino);
            if (sameObject && !toIsDir) continue;
            string path = prefix + ByteNames.Decode(name);
            byte[][] rawPath = [.. rawPrefix, name];

            var fa = inFrom ? Lookup(_from, fromDir, name) : null;
            var ta = inTo ? Lookup(_to, toDir, name) : null;
            try
            {
                var fFile = fa is { } a1 && !PosixMode.IsDirectory(a1.Mode) ? fa : null;
                var tFile = ta is { } a2 && !PosixMode.IsDirectory(a2.Mode) ? ta : null;
                if (fFile != null || tFile != null) _changes.Add(new TreeChange(path, rawPath, fFile, tFile));
                bool fd = fa is { } d1 && PosixMode.IsDirectory(d1.Mode), td = ta is { } d2 && PosixMode.IsDirectory(d2.Mode);
                if (fd || td) Walk(fd ? fa!.Value.Ino : 0, td ? ta!.Value.Ino : 0, path + "/", rawPath, cancel);
            }
            finally
            {
                if (fa is { } x) _from.Forget(x.Ino, 1);
                if (ta is { } y) _to.Forget(y.Ino, 1);
            }
        }
    }

    private static Dictionary<byte[], (ulong Ino, uint Mode)> List(AgentFileSystem fs, ulong dir)
    {
        var map = new Dictionary<byte[], (ulong, uint)>(ByteArrayComparer.Instance);
        if (dir == 0) return map;
        try
        {
            foreach (var e in fs.ReadDirectory(dir)) map[e.Name] = (e.Ino, e.Mode);
        }
        catch (AgentFsException e) when (e.Errno is Errno.ENOENT or Errno.ESTALE) { }
        return map;
    }

    private static InodeAttributes? Lookup(AgentFileSystem fs, ulong dir, byte[] name)
    {
        try { return fs.Lookup(dir, name); }
        catch (AgentFsException e) when (e.Errno is Errno.ENOENT or Errno.ESTALE) { return null; }
    }
}
