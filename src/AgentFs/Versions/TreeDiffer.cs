using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using AgentFs.Native;
using AgentFs.Store;
using Node = AgentFs.Versions.StateView.Node;

namespace AgentFs.Versions;

/// <summary>
/// Computes the changes between two states at a cost that grows with the changes, not with the tree.
///
/// Two states see chains of layers that share a common tail (the layers below where they forked; for base
/// nothing). Only rows of the layers in one chain and not the other (the symmetric difference) can make the
/// states differ, because a path resolves through dentry rows (parent, name) and inode rows (ino) only, and
/// chunk rows exist only beside an inode row of the same layer. So:
///   1. read the dentry and inode rows of those layers (indexed by layer);
///   2. map them to candidate paths in each state: a dentry row (parent, name) gives path(parent)/name, an
///      inode row gives every path of that inode. Where an inode is linked comes from dentries_by_ino for
///      overlay links, and from its base origin for objects of the base (checked to be still visible);
///   3. compare the two states at each candidate path. Where a directory is a different object at the two
///      sides (created, deleted, replaced, or a renamed directory taking another's place) its subtrees are
///      compared whole: that work is the size of the change;
///   4. pair deletions and additions of identical content as renames;
///   5. check the base did not drift under what the changes depend on (see <see cref="CheckBaseIdentities"/>
///      and <see cref="CheckUnseenBaseObjects"/>), and refuse (EIO) when it did.
/// </summary>
internal sealed class TreeDiffer
{
    private readonly AgentStore _store;
    private readonly BaseDirectory _base;
    private readonly StateView _a, _b;
    private readonly DiffStats _stats;
    private readonly string _operation;

    /// <summary>Inodes with a row in a layer of the symmetric difference: only these can differ in content or mode.</summary>
    private readonly HashSet<ulong> _rowInos = new();
    private readonly Dictionary<ulong, byte[]> _origins = new();
    private readonly List<InodeRow> _baseRows = new();
    private readonly Dictionary<ulong, List<byte[]>> _namesByParent = new();
    private readonly Dictionary<StateView, Dictionary<ulong, List<byte[]>>> _paths = new();
    private readonly HashSet<byte[]> _walked = new(ByteArrayComparer.Instance);
    private readonly List<FileChange> _changes = new();
    private readonly Dictionary<ulong, (StateView View, byte[] Path)> _disappeared = new(), _appeared = new();
    private Dictionary<ulong, List<(ulong Parent, byte[] Name, long Layer)>>? _linksWithoutIndex;

    private readonly record struct InodeRow(ulong Ino, uint Mode, byte[]? Origin, BaseIdentityRow? Identity, byte[]? Target);
    private readonly record struct BaseIdentityRow(ulong Dev, ulong Ino, long Size, long MtimeNs, long CtimeNs);

    private TreeDiffer(AgentStore store, StateView a, StateView b, DiffStats stats, string operation)
    {
        _store = store;
        _base = store.Base;
        _a = a;
        _b = b;
        _stats = stats;
        _operation = operation;
        _paths[a] = new();
        _paths[b] = new();
    }

    /// <summary>The changes from state a to state b, sorted by path (a deletion before an addition at the same path).</summary>
    public static List<FileChange> Run(AgentStore store, StateView a, StateView b, DiffStats stats, string operation)
    {
        var d = new TreeDiffer(store, a, b, stats, operation);
        return d.Compute();
    }

    private List<FileChange> Compute()
    {
        var onlyA = _a.State.Chain.Layers.Where(l => l != StoreState.NoLayer && _b.State.Chain.DepthOf(l) < 0).ToList();
        var onlyB = _b.State.Chain.Layers.Where(l => l != StoreState.NoLayer && _a.State.Chain.DepthOf(l) < 0).ToList();
        _diffLayers.UnionWith(onlyA);
        _diffLayers.UnionWith(onlyB);
        _store.Read(c =>
        {
            foreach (long layer in onlyA.Concat(onlyB)) ReadLayer(c, layer);
            if (_badName is { } bad) throw BadNameError(c, bad);
            return 0;
        });
        CheckBaseIdentities();

        var candidates = new HashSet<byte[]>(ByteArrayComparer.Instance);
        _store.Read(c =>
        {
            foreach (var view in new[] { _a, _b })
            {
                foreach (var (parent, names) in _namesByParent)
                    foreach (var p in PathsOf(c, view, parent, null, 0))
                        foreach (var name in names)
                            candidates.Add(Join(p, name));
                foreach (ulong ino in _rowInos)
                {
                    if (view == _a && InodeNumbers.IsOverlay(ino) && OnlyInDifferingLayers(c, ino)) _newInos.Add(ino);
                    if (_newInos.Contains(ino)) continue;
                    foreach (var p in PathsOf(c, view, ino, null, 0))
                        candidates.Add(p);
                }
            }
            return 0;
        });
        _linksCmd?.Dispose();
        _nearestCmd?.Dispose();
        _originCmd?.Dispose();
        _layersCmd?.Dispose();
        _linksCmd = _nearestCmd = _originCmd = _layersCmd = null;
        candidates.Remove([]); // the root itself: what git and apply leave alone (its mode)
        _stats.Candidates = candidates.Count;

        var ordered = candidates.ToList();
        ordered.Sort(static (x, y) => x.AsSpan().SequenceCompareTo(y));
        foreach (var path in ordered)
            if (!UnderWalked(path)) CompareTop(path);
        CheckUnseenBaseObjects();
        DetectRenames();
        _changes.Sort(static (x, y) =>
        {
            int c = x.RawPath.AsSpan().SequenceCompareTo(y.RawPath);
            if (c != 0) return c;
            return (x.Kind == ChangeKind.Deleted ? 0 : 1).CompareTo(y.Kind == ChangeKind.Deleted ? 0 : 1);
        });
        return _changes;
    }

    // ---- rows of the differing layers -------------------------------------------------------------

    private void ReadLayer(SqliteConnection c, long layer)
    {
        _stats.Layers++;
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT parent, name FROM dentries WHERE layer=$l";
            cmd.Parameters.AddWithValue("$l", layer);
            using var rd = cmd.ExecuteReader();
            while (rd.Read())
            {
                _stats.DentryRows++;
                ulong parent = (ulong)rd.GetInt64(0);
                byte[] name = NameOf(rd.GetValue(1));
                if (_badName == null && StoreCorruption.BadName(name) is { } why) _badName = (parent, layer, why);
                if (!_namesByParent.TryGetValue(parent, out var names)) _namesByParent[parent] = names = new List<byte[]>();
                names.Add(name);
            }
        }
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT ino, mode, origin, base_dev, base_ino, base_size, base_mtime_ns, base_ctime_ns, target FROM inodes WHERE layer=$l";
            cmd.Parameters.AddWithValue("$l", layer);
            using var rd = cmd.ExecuteReader();
            while (rd.Read())
            {
                _stats.InodeRows++;
                ulong ino = (ulong)rd.GetInt64(0);
                _rowInos.Add(ino);
                byte[]? origin = rd.IsDBNull(2) ? null : (byte[])rd.GetValue(2);
                if (origin != null) _origins[ino] = origin;
                if (origin == null || !IsBaseObject(ino)) continue;
                BaseIdentityRow? id = rd.IsDBNull(4) ? null : new BaseIdentityRow((ulong)rd.GetInt64(3), (ulong)rd.GetInt64(4),
                    rd.GetInt64(5), rd.GetInt64(6), rd.GetInt64(7));
                _baseRows.Add(new InodeRow(ino, (uint)rd.GetInt64(1), origin, id, rd.IsDBNull(8) ? null : (byte[])rd.GetValue(8)));
            }
        }
    }

    /// <summary>The first dentry row of the differing layers whose name is not a file name: reported, with the path of
    /// its directory, once paths can be found.</summary>
    private (ulong Parent, long Layer, string Why)? _badName;

    /// <summary>A name column as bytes (an edited store may hold text there).</summary>
    private static byte[] NameOf(object value) => value as byte[] ?? Encoding.UTF8.GetBytes(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "");

    /// <summary>The corrupt-store error for a bad name, at the path of its directory in either state when it has one.</summary>
    private AgentFsException BadNameError(SqliteConnection c, (ulong Parent, long Layer, string Why) bad)
    {
        var error = StoreCorruption.BadNameError(_store.Path, bad.Parent, bad.Layer, bad.Why);
        foreach (var view in new[] { _b, _a })
            if (PathsOf(c, view, bad.Parent, null, 0) is [var path, ..]) return StoreCorruption.AtPath(error, path);
        return error;
    }

    private readonly HashSet<long> _diffLayers = new();
    private readonly HashSet<ulong> _newInos = new();

    /// <summary>
    /// An overlay inode whose rows all lie in the differing layers was created in one of them, so every link
    /// to it is a dentry row of those layers too, and those are candidates already: no need to look for its
    /// paths (the common case of many new files, e.g. after an install).
    /// </summary>
    private bool OnlyInDifferingLayers(SqliteConnection c, ulong ino)
    {
        var cmd = Prepared(c, ref _layersCmd, "SELECT layer FROM inodes WHERE ino=$a");
        cmd.Parameters[0].Value = (long)ino;
        using var rd = cmd.ExecuteReader();
        while (rd.Read())
            if (!_diffLayers.Contains(rd.GetInt64(0))) return false;
        return true;
    }

    private static bool IsBaseObject(ulong ino) => !InodeNumbers.IsOverlay(ino) && ino != InodeNumbers.Root;

    // ---- where an inode is linked in a state ------------------------------------------------------

    /// <summary>
    /// Every path at which ino is visible in a state. Overlay links come from the dentry rows naming ino
    /// (kept only when that row is the nearest for its key in the state's chain, so stale rows of lower
    /// layers never make cycles); a base object is also where its origin puts it: in whatever directory
    /// shows the base directory of its origin, under its base name. Each path found is checked by
    /// resolving it in the state.
    /// </summary>
    private List<byte[]> PathsOf(SqliteConnection c, StateView view, ulong ino, byte[]? originHint, int depth)
    {
        if (ino == InodeNumbers.Root) return [[]];
        var memo = _paths[view];
        if (memo.TryGetValue(ino, out var known)) return known;
        var result = new List<byte[]>();
        memo[ino] = result; // a cycle (which the nearest-row check rules out) would see no paths, not loop
        if (depth > 2048) return result;

        foreach (var (parent, name, layer) in LinksOf(c, ino))
        {
            if (view.State.Chain.DepthOf(layer) < 0 || !NearestDentryIs(c, view, parent, name, ino)) continue;
            foreach (var pp in PathsOf(c, view, parent, null, depth + 1))
            {
                byte[] p = Join(pp, name);
                if (view.Resolve(p)?.Ino == ino && !Contains(result, p)) result.Add(p);
            }
        }

        if (IsBaseObject(ino))
        {
            byte[]? origin = originHint ?? OriginOf(c, ino);
            if (origin is { Length: > 0 })
            {
                int slash = origin.AsSpan().LastIndexOf((byte)'/');
                byte[] dirOrigin = slash < 0 ? [] : origin[..slash];
                byte[] name = origin[(slash + 1)..];
                if (_base.TryStat(dirOrigin, out var st) && PosixMode.IsDirectory(st.Mode))
                {
                    ulong dirIno = _base.MapIno(st);
                    foreach (var pp in PathsOf(c, view, dirIno, dirOrigin, depth + 1))
                    {
                        byte[] p = Join(pp, name);
                        if (view.Resolve(p)?.Ino == ino && !Contains(result, p)) result.Add(p);
                    }
                }
            }
        }
        return result;
    }

    private static bool Contains(List<byte[]> list, byte[] p)
    {
        foreach (var x in list) if (x.AsSpan().SequenceEqual(p)) return true;
        return false;
    }

    private byte[]? OriginOf(SqliteConnection c, ulong ino)
    {
        if (_origins.TryGetValue(ino, out var o)) return o;
        var cmd = Prepared(c, ref _originCmd, "SELECT origin FROM inodes WHERE ino=$a AND origin IS NOT NULL LIMIT 1");
        cmd.Parameters[0].Value = (long)ino;
        o = cmd.ExecuteScalar() as byte[];
        if (o != null) _origins[ino] = o;
        return o;
    }

    /// <summary>The dentry rows that name ino, in any layer (dentries_by_ino; a store opened read-only before
    /// its migration to schema 2 has no such index, so it is built in memory once).</summary>
    private List<(ulong Parent, byte[] Name, long Layer)> LinksOf(SqliteConnection c, ulong ino)
    {
        if (_linksWithoutIndex == null && !HasInoIndex(c))
        {
            _linksWithoutIndex = new();
            using var scan = c.CreateCommand();
            scan.CommandText = "SELECT parent, name, layer, ino FROM dentries WHERE ino != 0";
            using var rd = scan.ExecuteReader();
            while (rd.Read())
            {
                ulong i = (ulong)rd.GetInt64(3);
                if (!_linksWithoutIndex.TryGetValue(i, out var l)) _linksWithoutIndex[i] = l = new();
                l.Add(((ulong)rd.GetInt64(0), CheckedName(rd.GetValue(1), (ulong)rd.GetInt64(0), rd.GetInt64(2)), rd.GetInt64(2)));
            }
        }
        if (_linksWithoutIndex != null)
            return _linksWithoutIndex.TryGetValue(ino, out var found) ? found : [];
        var list = new List<(ulong, byte[], long)>();
        var cmd = Prepared(c, ref _linksCmd, "SELECT parent, name, layer FROM dentries WHERE ino=$a");
        cmd.Parameters[0].Value = (long)ino;
        using var r = cmd.ExecuteReader();
        while (r.Read()) list.Add(((ulong)r.GetInt64(0), CheckedName(r.GetValue(1), (ulong)r.GetInt64(0), r.GetInt64(2)), r.GetInt64(2)));
        return list;
    }

    /// <summary>A name from a dentry row that paths are made of; one that is not a file name is a corrupt store.</summary>
    private byte[] CheckedName(object value, ulong parent, long layer)
    {
        byte[] name = NameOf(value);
        if (StoreCorruption.BadName(name) is { } why) throw StoreCorruption.BadNameError(_store.Path, parent, layer, why);
        return name;
    }

    private SqliteCommand? _linksCmd, _nearestCmd, _originCmd, _layersCmd;

    /// <summary>A statement prepared once per diff on the connection of the path-mapping phase.</summary>
    private static SqliteCommand Prepared(SqliteConnection c, ref SqliteCommand? cmd, string sql)
    {
        if (cmd != null && cmd.Connection == c) return cmd;
        cmd?.Dispose();
        cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.Add(new SqliteParameter("$a", null));
        if (sql.Contains("$b")) cmd.Parameters.Add(new SqliteParameter("$b", null));
        cmd.Prepare();
        return cmd;
    }

    private bool? _hasInoIndex;

    private bool HasInoIndex(SqliteConnection c) => _hasInoIndex ??=
        StoreDatabase.Scalar(c, "SELECT 1 FROM sqlite_master WHERE type='index' AND name='dentries_by_ino'") != null;

    private bool NearestDentryIs(SqliteConnection c, StateView view, ulong parent, byte[] name, ulong ino)
    {
        var cmd = Prepared(c, ref _nearestCmd, "SELECT layer, ino FROM dentries WHERE parent=$a AND name=$b");
        cmd.Parameters[0].Value = (long)parent;
        cmd.Parameters[1].Value = name;
        using var rd = cmd.ExecuteReader();
        int best = int.MaxValue;
        ulong found = 0;
        while (rd.Read())
        {
            int d = view.State.Chain.DepthOf(rd.GetInt64(0));
            if (d < 0 || d >= best) continue;
            best = d;
            found = (ulong)rd.GetInt64(1);
        }
        return best != int.MaxValue && found == ino;
    }

    internal static byte[] Join(byte[] dir, byte[] name)
    {
        if (dir.Length == 0) return name;
        var p = new byte[dir.Length + 1 + name.Length];
        dir.CopyTo(p, 0);
        p[dir.Length] = (byte)'/';
        name.CopyTo(p, dir.Length + 1);
        return p;
    }

    private bool UnderWalked(byte[] path)
    {
        for (int i = path.Length - 1; i > 0; i--)
            if (path[i] == '/' && _walked.Contains(path[..i])) return true;
        return false;
    }

    // ---- comparing the two states -----------------------------------------------------------------

    private void CompareTop(byte[] path)
    {
        try { CompareTopAt(path); }
        catch (AgentFsException e) { throw StoreCorruption.AtPath(e, path); }
    }

    private void CompareTopAt(byte[] path)
    {
        var a = _a.Resolve(path);
        var b = _b.Resolve(path);
        if (a == null && b == null) return;
        if (a is { IsDirectory: true } da && b is { IsDirectory: true } db && da.Ino == db.Ino)
        {
            // The same directory: its entries that changed are candidates of their own.
            CompareDirectoryModes(path, da, db);
            return;
        }
        if (a is { IsDirectory: true } || b is { IsDirectory: true })
        {
            _walked.Add(path);
            CompareWhole(path, a, b);
            return;
        }
        CompareLeaf(path, a, b);
    }

    /// <summary>The directories being walked whole, per side, from the top of the walk down to where it is: a
    /// directory met again inside itself (rows of a corrupt store) is refused instead of walked forever.</summary>
    private readonly HashSet<ulong> _openA = new(), _openB = new();

    private void Enter(HashSet<ulong> open, Node dir, byte[] path)
    {
        if (!open.Add(dir.Ino))
            throw StoreCorruption.AtPath(StoreCorruption.Error(_store.Path,
                $"directory inode {dir.Ino} is inside itself (a dentry row names one of its own parent directories)"), path);
    }

    private void CompareWhole(byte[] path, Node? a, Node? b)
    {
        try { CompareWholeAt(path, a, b); }
        catch (AgentFsException e) { throw StoreCorruption.AtPath(e, path); }
    }

    private void CompareWholeAt(byte[] path, Node? a, Node? b)
    {
        bool ad = a is { IsDirectory: true }, bd = b is { IsDirectory: true };
        if (ad && bd)
        {
            CompareDirectoryModes(path, a!.Value, b!.Value);
            Enter(_openA, a.Value, path);
            Enter(_openB, b.Value, path);
            var la = _a.List(a.Value, path);
            var lb = _b.List(b.Value, path);
            int i = 0, j = 0;
            while (i < la.Count || j < lb.Count)
            {
                int cmp = i == la.Count ? 1 : j == lb.Count ? -1 : la[i].Name.AsSpan().SequenceCompareTo(lb[j].Name);
                if (cmp < 0) { CompareWhole(Join(path, la[i].Name), la[i].Node, null); i++; }
                else if (cmp > 0) { CompareWhole(Join(path, lb[j].Name), null, lb[j].Node); j++; }
                else { CompareWhole(Join(path, la[i].Name), la[i].Node, lb[j].Node); i++; j++; }
            }
            _openA.Remove(a.Value.Ino);
            _openB.Remove(b.Value.Ino);
        }
        else if (ad)
        {
            DeleteTree(path, a!.Value);
            if (b != null) Emit(ChangeKind.Added, path, null, b, true);
        }
        else if (bd)
        {
            if (a != null) Emit(ChangeKind.Deleted, path, a, null, true);
            AddTree(path, b!.Value);
        }
        else CompareLeaf(path, a, b);
    }

    private void DeleteTree(byte[] path, Node dir)
    {
        Emit(ChangeKind.Deleted, path, dir, null, true);
        Enter(_openA, dir, path);
        foreach (var (name, child) in _a.List(dir, path))
        {
            if (child.IsDirectory) DeleteTree(Join(path, name), child);
            else Emit(ChangeKind.Deleted, Join(path, name), child, null, true);
        }
        _openA.Remove(dir.Ino);
    }

    private void AddTree(byte[] path, Node dir)
    {
        Emit(ChangeKind.Added, path, null, dir, true);
        Enter(_openB, dir, path);
        foreach (var (name, child) in _b.List(dir, path))
        {
            if (child.IsDirectory) AddTree(Join(path, name), child);
            else Emit(ChangeKind.Added, Join(path, name), null, child, true);
        }
        _openB.Remove(dir.Ino);
    }

    private void CompareDirectoryModes(byte[] path, Node a, Node b)
    {
        if ((a.Attributes.Mode & PosixMode.PermissionMask) != (b.Attributes.Mode & PosixMode.PermissionMask))
            Emit(ChangeKind.Modified, path, a, b, false);
    }

    private void CompareLeaf(byte[] path, Node? a, Node? b)
    {
        if (a == null && b == null) return;
        if (a == null) { Emit(ChangeKind.Added, path, null, b, true); return; }
        if (b == null) { Emit(ChangeKind.Deleted, path, a, null, true); return; }
        Node x = a.Value, y = b.Value;
        if (x.Type != y.Type) { Emit(ChangeKind.TypeChanged, path, x, y, true); return; }
        // An inode without rows in the differing layers is the same record at both sides.
        if (x.Ino == y.Ino && !_rowInos.Contains(x.Ino)) return;
        bool content = x.Type switch
        {
            FileType.File => !SameContent(x, y),
            FileType.Symlink => !_a.ReadLink(x).AsSpan().SequenceEqual(_b.ReadLink(y)),
            _ => x.Attributes.Rdev != y.Attributes.Rdev,
        };
        bool mode = (x.Attributes.Mode & PosixMode.PermissionMask) != (y.Attributes.Mode & PosixMode.PermissionMask);
        if (content || mode) Emit(ChangeKind.Modified, path, x, y, content);
    }

    private bool SameContent(Node x, Node y)
    {
        long size = x.Attributes.Size;
        if (size != y.Attributes.Size) return false;
        const int Block = 1 << 20;
        byte[] bx = System.Buffers.ArrayPool<byte>.Shared.Rent(Block), by = System.Buffers.ArrayPool<byte>.Shared.Rent(Block);
        try
        {
            for (long pos = 0; pos < size;)
            {
                int want = (int)Math.Min(Block, size - pos);
                int nx = ReadFully(_a, x.Ino, pos, bx.AsSpan(0, want));
                int ny = ReadFully(_b, y.Ino, pos, by.AsSpan(0, want));
                if (nx != ny || !bx.AsSpan(0, nx).SequenceEqual(by.AsSpan(0, ny))) return false;
                if (nx < want) return true;
                pos += nx;
            }
            return true;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(bx);
            System.Buffers.ArrayPool<byte>.Shared.Return(by);
        }
    }

    private static int ReadFully(StateView v, ulong ino, long offset, Span<byte> dest)
    {
        int done = 0;
        while (done < dest.Length)
        {
            int n = v.Fs.Inodes.Read(ino, offset + done, dest[done..]);
            if (n == 0) break;
            done += n;
        }
        return done;
    }

    private void Emit(ChangeKind kind, byte[] path, Node? a, Node? b, bool contentChanged)
    {
        var change = new FileChange(kind, path, null, a is { } x ? _a.Version(x) : null, b is { } y ? _b.Version(y) : null)
        {
            ContentChanged = contentChanged,
        };
        _changes.Add(change);
        if (a is { } oa && (b == null || b.Value.Ino != oa.Ino) && IsBaseObject(oa.Ino) && !_rowInos.Contains(oa.Ino))
            _disappeared.TryAdd(oa.Ino, (_a, path));
        if (b is { } nb && (a == null || a.Value.Ino != nb.Ino) && IsBaseObject(nb.Ino) && !_rowInos.Contains(nb.Ino))
            _appeared.TryAdd(nb.Ino, (_b, path));
    }

    // ---- renames ----------------------------------------------------------------------------------

    /// <summary>Pairs a deleted and an added file (or symlink) of identical, non-empty content as a rename,
    /// preferring the same inode, then path order (git's exact rename detection).</summary>
    private void DetectRenames()
    {
        static bool Eligible(FileVersion? v) => v is { Type: FileType.File or FileType.Symlink, Size: > 0 };
        var deleted = _changes.Where(c => c.Kind == ChangeKind.Deleted && Eligible(c.Old)).ToList();
        var added = _changes.Where(c => c.Kind == ChangeKind.Added && Eligible(c.New)).ToList();
        if (deleted.Count == 0 || added.Count == 0) return;
        var bySize = deleted.GroupBy(c => (c.Old!.Type, c.Old.Size)).ToDictionary(g => g.Key, g => g.ToList());
        var addedSizes = added.Select(c => (c.New!.Type, c.New.Size)).ToHashSet();
        var pool = new Dictionary<(FileType, string), List<FileChange>>();
        foreach (var group in bySize.Values)
        {
            if (!addedSizes.Contains((group[0].Old!.Type, group[0].Old!.Size))) continue;
            foreach (var d in group)
            {
                d.OldOid ??= BlobId(_a, d.Old!, d.RawPath);
                var key = (d.Old!.Type, d.OldOid);
                if (!pool.TryGetValue(key, out var l)) pool[key] = l = new List<FileChange>();
                l.Add(d);
            }
        }
        if (pool.Count == 0) return;
        var removed = new HashSet<FileChange>(ReferenceEqualityComparer.Instance);
        var renames = new List<FileChange>();
        foreach (var a in added.OrderBy(c => c.RawPath, ByteOrder.Instance))
        {
            if (!bySize.ContainsKey((a.New!.Type, a.New.Size))) continue;
            a.NewOid ??= BlobId(_b, a.New, a.RawPath);
            if (!pool.TryGetValue((a.New.Type, a.NewOid), out var candidates) || candidates.Count == 0) continue;
            int pick = candidates.FindIndex(d => d.Old!.Ino == a.New.Ino);
            if (pick < 0) pick = 0;
            var d = candidates[pick];
            candidates.RemoveAt(pick);
            removed.Add(d);
            removed.Add(a);
            renames.Add(new FileChange(ChangeKind.Renamed, a.RawPath, d.RawPath, d.Old, a.New)
            {
                ContentChanged = false, OldOid = d.OldOid, NewOid = a.NewOid,
            });
        }
        _changes.RemoveAll(removed.Contains);
        _changes.AddRange(renames);
    }

    /// <summary>The git blob id (SHA-1 of "blob SIZE\0" + content) of a file or symlink version.</summary>
    internal static string BlobId(StateView view, FileVersion v, byte[] path)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        if (v.Type == FileType.Symlink)
        {
            h.AppendData(Encoding.ASCII.GetBytes($"blob {v.RawLinkTarget!.Length}\0"));
            h.AppendData(v.RawLinkTarget);
        }
        else
        {
            h.AppendData(Encoding.ASCII.GetBytes($"blob {v.Size}\0"));
            long total = 0;
            view.ReadChunks(v.Ino, v.Size, path, span => { h.AppendData(span); total += span.Length; });
            if (total != v.Size)
                throw new AgentFsException(Errno.EIO, $"{Encoding.UTF8.GetString(path)} in {view.State} ended after {total} of {v.Size} bytes while reading it");
        }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    internal static string BlobId(ReadOnlySpan<byte> content)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        h.AppendData(Encoding.ASCII.GetBytes($"blob {content.Length}\0"));
        h.AppendData(content);
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    // ---- base drift -------------------------------------------------------------------------------

    /// <summary>
    /// The base objects the differing layers recorded (copied up, renamed, deleted: every such row carries
    /// the identity of the base file, or the target of a base symlink, as the store saw it) must still be
    /// what the store saw. Otherwise the two states would be compared against a base that neither of them
    /// was made from: refuse, naming each file.
    /// </summary>
    private void CheckBaseIdentities()
    {
        var problems = new List<string>();
        var seen = new HashSet<(ulong, BaseIdentityRow?)>();
        foreach (var row in _baseRows)
        {
            if (!seen.Add((row.Ino, row.Identity))) continue;
            string name = Encoding.UTF8.GetString(row.Origin!);
            if (!_base.TryStat(row.Origin!, out var st) || _base.MapIno(st) != row.Ino)
            {
                if (PosixMode.IsRegular(row.Mode) || PosixMode.IsSymlink(row.Mode) || PosixMode.IsDirectory(row.Mode))
                    problems.Add($"{name} (deleted or replaced in the base)");
                continue;
            }
            if (row.Identity is { } id && PosixMode.IsRegular(row.Mode))
            {
                if (st.Dev != id.Dev || st.Ino != id.Ino || st.Size != id.Size
                    || ((st.MtimeNs != id.MtimeNs || st.CtimeNs != id.CtimeNs) && !VcsPaths.IsGitObjectFile(row.Origin!)))
                    problems.Add($"{name} (changed in the base)");
            }
            else if (PosixMode.IsSymlink(row.Mode) && row.Target != null)
            {
                if (!PosixMode.IsSymlink(st.Mode) || !_base.ReadLink(row.Origin!).AsSpan().SequenceEqual(row.Target))
                    problems.Add($"{name} (changed in the base)");
            }
        }
        if (problems.Count > 0) throw Drift(problems);
    }

    /// <summary>
    /// A base object that the store never recorded (no row in the differing layers) cannot legitimately
    /// vanish from one state or appear in the other except by moving with a renamed directory (then it is
    /// seen at both). Every other case is a file added to the base after the store hid or replaced its path.
    /// </summary>
    private void CheckUnseenBaseObjects()
    {
        var problems = new List<string>();
        foreach (var (ino, (view, path)) in _disappeared)
            if (!_appeared.ContainsKey(ino))
                problems.Add($"{Encoding.UTF8.GetString(path)} (added to the base after {(view == _a ? _b : _a).State} hid or replaced it)");
        foreach (var (ino, (view, path)) in _appeared)
            if (!_disappeared.ContainsKey(ino))
                problems.Add($"{Encoding.UTF8.GetString(path)} (added to the base after {(view == _a ? _b : _a).State} hid or replaced it)");
        if (problems.Count > 0) throw Drift(problems);
    }

    private AgentFsException Drift(List<string> problems)
    {
        problems.Sort(StringComparer.Ordinal);
        const int Max = 50;
        string list = string.Join(", ", problems.Take(Max)) + (problems.Count > Max ? $", and {problems.Count - Max} more" : "");
        return new AgentFsException(Errno.EIO,
            $"the base directory {_base.Root} changed under store {_store.Path} since the store depended on it: {list}; " +
            $"refusing to {_operation} (restore those files in the base, or start a new store over the current base)");
    }
}

/// <summary>Orders byte strings (paths) the way git sorts them: by unsigned bytes.</summary>
internal sealed class ByteOrder : IComparer<byte[]>
{
    public static readonly ByteOrder Instance = new();
    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}
