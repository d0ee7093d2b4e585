using System.Security.Cryptography;
using System.Text;

namespace AgentFs.Tests.Property;

/// <summary>What the test compares of one path (lstat semantics). Times, uid/gid, directory sizes and directory nlink are not compared.</summary>
public sealed class Node
{
    public char Type;            // d, f, l, ?
    public uint Perm;            // mode & 07777
    public long Size;            // non-directories
    public byte[]? Content;      // regular files
    public string? Target;       // symbolic links
    public uint Nlink;           // non-directories
    public ulong Ino;            // only to build the hard-link partition
    public string Group = "";    // the smallest path sharing this inode (non-directories)
    public SortedDictionary<string, byte[]> Xattrs = new(StringComparer.Ordinal);

    public static char TypeOf(uint mode) => (mode & 0xF000) switch { 0x4000 => 'd', 0x8000 => 'f', 0xA000 => 'l', _ => '?' };
}

/// <summary>The observable tree of one side: path ("" is the root) to node, in ordinal order.</summary>
public sealed class TreeSnapshot
{
    public readonly SortedDictionary<string, Node> Nodes = new(StringComparer.Ordinal);

    /// <summary>Internal inconsistencies of the library found while reading it (readdir vs lstat).</summary>
    public readonly List<string> Problems = [];

    private static string Join(string dir, string name) => dir.Length == 0 ? name : dir + "/" + name;

    private void AssignGroups()
    {
        var byIno = new Dictionary<ulong, string>();
        foreach (var (p, n) in Nodes)
        {
            if (n.Type == 'd') continue;
            if (!byIno.ContainsKey(n.Ino)) byIno[n.Ino] = p; // ordinal order: the first path is the smallest
            n.Group = byIno[n.Ino];
        }
    }

    public static TreeSnapshot OfModel(string root, Func<string, bool>? include = null)
    {
        var s = new TreeSnapshot();
        void Visit(string rel)
        {
            string abs = rel.Length == 0 ? root : root + "/" + rel;
            int e = ModelLibc.TryStat(abs, false, out var st);
            if (e != 0) throw new IOException($"model lstat {abs}: errno {e}");
            var n = new Node { Type = Node.TypeOf(st.Mode), Perm = st.Mode & 0xFFF, Ino = st.Ino };
            if (n.Type != 'd')
            {
                n.Size = st.Size;
                n.Nlink = st.Nlink;
            }
            if (n.Type == 'f') n.Content = ModelLibc.ReadAll(abs);
            if (n.Type == 'l') n.Target = ModelLibc.ReadLink(abs);
            else n.Xattrs = ModelLibc.UserXattrs(abs);
            s.Nodes[rel] = n;
            if (n.Type == 'd')
            {
                foreach (var child in Directory.EnumerateFileSystemEntries(abs).Select(Path.GetFileName).OrderBy(x => x, StringComparer.Ordinal))
                {
                    string r = Join(rel, child!);
                    if (include == null || include(r)) Visit(r);
                }
            }
        }
        Visit("");
        s.AssignGroups();
        return s;
    }

    public static TreeSnapshot OfLibrary(AgentFileSystem fs)
    {
        var s = new TreeSnapshot();
        var dirs = new HashSet<ulong>();
        void Visit(string rel, DirectoryEntry? entry)
        {
            var a = fs.GetAttributes(rel);
            if (entry is { } e)
            {
                if (e.Ino != a.Ino)
                    s.Problems.Add($"readdir of the parent gives inode {e.Ino} for \"{rel}\" but lstat gives {a.Ino}");
                if ((e.Mode & 0xF000) != (a.Mode & 0xF000))
                    s.Problems.Add($"readdir of the parent gives type {Node.TypeOf(e.Mode)} for \"{rel}\" but lstat gives {Node.TypeOf(a.Mode)}");
            }
            var n = new Node { Type = Node.TypeOf(a.Mode), Perm = a.Mode & 0xFFF, Ino = a.Ino };
            if (n.Type != 'd')
            {
                n.Size = a.Size;
                n.Nlink = a.Nlink;
            }
            if (n.Type == 'f') n.Content = fs.ReadAllBytes(rel);
            if (n.Type == 'l') n.Target = fs.ReadSymbolicLink(rel);
            foreach (var x in fs.ListXattr(rel))
                if (x.StartsWith("user.", StringComparison.Ordinal)) n.Xattrs[x] = fs.GetXattr(rel, x);
            s.Nodes[rel] = n;
            if (n.Type != 'd') return;
            if (!dirs.Add(n.Ino))
            {
                s.Problems.Add($"directory cycle: \"{rel}\" is inode {n.Ino}, which is also one of its ancestors (or appears twice)");
                return;
            }
            foreach (var child in fs.Enumerate(rel)) Visit(Join(rel, child.NameString), child);
        }
        Visit("", null);
        s.AssignGroups();
        return s;
    }

    /// <summary>The first difference between the system under test (this; named so in the description) and the
    /// model, as (category, description), or null.</summary>
    public (string Category, string Detail)? FirstDifference(TreeSnapshot model, string name = "library")
    {
        if (Problems.Count > 0) return ("library-inconsistent", string.Join("\n", Problems));
        var onlyLib = Nodes.Keys.Where(k => !model.Nodes.ContainsKey(k)).ToList();
        var onlyModel = model.Nodes.Keys.Where(k => !Nodes.ContainsKey(k)).ToList();
        if (onlyLib.Count > 0 || onlyModel.Count > 0)
        {
            var sb = new StringBuilder("the set of paths differs:");
            if (onlyLib.Count > 0) sb.Append($"\n    only in the {name}: ").Append(string.Join(", ", onlyLib.Select(p => $"\"{p}\" ({Describe(Nodes[p])})")));
            if (onlyModel.Count > 0) sb.Append($"\n    only in the {"model:".PadRight(name.Length + 1)} ").Append(string.Join(", ", onlyModel.Select(p => $"\"{p}\" ({Describe(model.Nodes[p])})")));
            return ("paths", sb.ToString());
        }
        foreach (var (p, l) in Nodes)
        {
            var m = model.Nodes[p];
            string at = $"\"{p}\"";
            if (l.Type != m.Type) return ("type", $"{at}: type {name} {l.Type}, model {m.Type}");
            if (l.Perm != m.Perm) return ("mode", $"{at}: permission bits {name} {Step.Oct(l.Perm)}, model {Step.Oct(m.Perm)}");
            if (l.Type != 'd')
            {
                if (l.Size != m.Size) return ("size", $"{at}: size {name} {l.Size}, model {m.Size}");
                if (l.Type == 'f' && !l.Content.AsSpan().SequenceEqual(m.Content))
                    return ("content", $"{at}: content differs: {ContentDiff(l.Content!, m.Content!)}");
                if (l.Target != m.Target) return ("symlink-target", $"{at}: symlink target {name} \"{l.Target}\", model \"{m.Target}\"");
                if (l.Nlink != m.Nlink) return ("nlink", $"{at}: nlink {name} {l.Nlink}, model {m.Nlink}");
                if (l.Group != m.Group)
                {
                    string Same(TreeSnapshot t, Node n) => string.Join(", ", t.Nodes.Where(kv => kv.Value.Type != 'd' && kv.Value.Ino == n.Ino).Select(kv => $"\"{kv.Key}\""));
                    return ("hardlink-group", $"{at}: hard-link group differs: {name} {{{Same(this, l)}}}, model {{{Same(model, m)}}}");
                }
            }
            string lx = XattrString(l.Xattrs), mx = XattrString(m.Xattrs);
            if (lx != mx) return ("xattr", $"{at}: user xattrs {name} {{{lx}}}, model {{{mx}}}");
        }
        return null;
    }

    private static string Describe(Node n) => n.Type switch
    {
        'f' => $"file, {n.Size} bytes",
        'l' => $"symlink -> {n.Target}",
        'd' => "directory",
        _ => "?",
    };

    private static string XattrString(SortedDictionary<string, byte[]> x) =>
        string.Join(", ", x.Select(kv => $"{kv.Key}={kv.Value.Length}B:{Convert.ToHexString(SHA256.HashData(kv.Value))[..8]}"));

    public static string ContentDiff(byte[] lib, byte[] model)
    {
        int n = Math.Min(lib.Length, model.Length);
        int i = lib.AsSpan(0, n).CommonPrefixLength(model.AsSpan(0, n));
        int end = i;
        while (end < n && lib[end] != model[end]) end++;
        string Hex(byte[] b) => Convert.ToHexString(b.AsSpan(i, Math.Min(16, Math.Max(0, b.Length - i))));
        string zeros(byte[] b) => b.AsSpan(i, Math.Max(0, Math.Min(b.Length, end) - i)).IndexOfAnyExcept((byte)0) < 0 ? " (zeros)" : "";
        return i < n
            ? $"lengths {lib.Length}/{model.Length}, first difference at offset {i} (differing run of {end - i} bytes, to {end}); library {Hex(lib)}{zeros(lib)}…, model {Hex(model)}{zeros(model)}…"
            : $"lengths library {lib.Length}, model {model.Length} (common prefix equal)";
    }

    /// <summary>A hash of a real directory tree: paths, modes, inode numbers, link counts, sizes, mtimes, ctimes, contents, targets and xattrs.</summary>
    public static string HashDirectory(string root)
    {
        var sb = new StringBuilder();
        void Visit(string rel)
        {
            string abs = rel.Length == 0 ? root : root + "/" + rel;
            int e = ModelLibc.TryStat(abs, false, out var st);
            if (e != 0) throw new IOException($"lstat {abs}: errno {e}");
            sb.Append(rel).Append('|').Append(st.Mode).Append('|').Append(st.Ino).Append('|').Append(st.Nlink).Append('|')
              .Append(st.Size).Append('|').Append(st.MtimeNs).Append('|').Append(st.CtimeNs).Append('|');
            if (st.IsReg) sb.Append(Convert.ToHexString(SHA256.HashData(ModelLibc.ReadAll(abs))));
            if (st.IsLink) sb.Append(ModelLibc.ReadLink(abs));
            else sb.Append(XattrString(ModelLibc.UserXattrs(abs)));
            sb.Append('\n');
            if (st.IsDir)
                foreach (var c in Directory.EnumerateFileSystemEntries(abs).Select(Path.GetFileName).OrderBy(x => x, StringComparer.Ordinal))
                    Visit(rel.Length == 0 ? c! : rel + "/" + c);
        }
        Visit("");
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }
}
