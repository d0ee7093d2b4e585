using System.Text;
using AgentFs.Overlay;
using AgentFs.Store;

namespace AgentFs;

/// <summary>
/// The path-level API: paths are relative to the branch's root ('/'-separated; a leading '/' is allowed),
/// are never resolved outside it, and follow symbolic links only in the middle of a path, never at
/// the end (like lstat). Errors name the path.
/// </summary>
public sealed partial class AgentFileSystem
{
    /// <summary>A resolved path: the inode, its record, its parent and name, and the inodes from the root
    /// down to it (after following symlinks), which is what ancestry checks compare.</summary>
    private readonly record struct Resolved(ulong Ino, InodeRecord Record, ulong Parent, byte[] Name, List<ulong> Chain);

    private static List<byte[]> SplitPath(string path)
    {
        if (path.Contains('\0')) throw new AgentFsException(Errno.EINVAL, $"path {path.Replace("\0", "\\0")} contains a NUL byte");
        var parts = new List<byte[]>();
        foreach (var p in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (p == ".") continue;
            if (p == "..")
            {
                if (parts.Count > 0) parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(Encoding.UTF8.GetBytes(p));
        }
        return parts;
    }

    private Resolved ResolvePath(string path, bool followFinal = false, int symlinkBudget = 40)
    {
        var parts = SplitPath(path);
        ulong ino = InodeNumbers.Root;
        var rec = GetRecord(InodeNumbers.Root);
        ulong parent = InodeNumbers.Root;
        byte[] name = [];
        var chain = new List<ulong> { InodeNumbers.Root };
        for (int i = 0; i < parts.Count; i++)
        {
            if (!rec.IsDirectory) throw new AgentFsException(Errno.ENOTDIR, $"{Join(parts, i)} is not a directory");
            try
            {
                parent = ino;
                name = parts[i];
                rec = LookupCore(ino, name, out _);
                ino = rec.Ino;
                chain.Add(ino);
            }
            catch (AgentFsException e) when (e.Errno == Errno.ENOENT)
            {
                throw new AgentFsException(Errno.ENOENT, $"{Join(parts, i + 1)} does not exist in branch {Branch}");
            }
            if (rec.IsSymlink && (i < parts.Count - 1 || followFinal))
            {
                if (--symlinkBudget <= 0) throw new AgentFsException(Errno.ELOOP, $"too many symbolic links in {path}");
                string target = Encoding.UTF8.GetString(ReadLink(ino));
                string dir = target.StartsWith('/') ? "" : Join(parts, i);
                string rest = string.Join('/', parts.Skip(i + 1).Select(b => Encoding.UTF8.GetString(b)));
                return ResolvePath(dir + "/" + target + "/" + rest, followFinal, symlinkBudget);
            }
        }
        return new Resolved(ino, rec, parent, name, chain);
    }

    private (ulong Parent, byte[] Name) ResolveParent(string path)
    {
        var (parent, name, _) = ResolveParentChain(path);
        return (parent, name);
    }

    /// <summary>The directory a path's last name is in (symlinks followed), the name, and the inodes from the root to that directory.</summary>
    private (ulong Parent, byte[] Name, List<ulong> Chain) ResolveParentChain(string path)
    {
        var parts = SplitPath(path);
        if (parts.Count == 0) throw new AgentFsException(Errno.EINVAL, $"path '{path}' names the root");
        string parentPath = string.Join('/', parts.Take(parts.Count - 1).Select(b => Encoding.UTF8.GetString(b)));
        var p = ResolvePath(parentPath, followFinal: true);
        if (!p.Record.IsDirectory) throw new AgentFsException(Errno.ENOTDIR, $"{parentPath} is not a directory");
        return (p.Ino, parts[^1], p.Chain);
    }

    private static string Join(List<byte[]> parts, int count) =>
        "/" + string.Join('/', parts.Take(count).Select(b => Encoding.UTF8.GetString(b)));

    /// <summary>Makes sure an error names the path it is about (as /path from the branch's root).</summary>
    private AgentFsException At(AgentFsException e, string path)
    {
        if (e.IsStoreCorrupt) return StoreCorruption.AtPath(e, path);
        string norm = "/" + path.TrimStart('/');
        return e.Message.Contains(norm, StringComparison.Ordinal) || (path.Length > 0 && e.Message.StartsWith(path + ":", StringComparison.Ordinal))
            ? e
            : new AgentFsException(e.Errno, $"{norm} in branch {Branch}: {e.Message}", e);
    }

    private T OnPath<T>(string path, Func<T> f)
    {
        try { return f(); }
        catch (AgentFsException e) { throw At(e, path); }
    }

    public bool Exists(string path)
    {
        try { ResolvePath(path); return true; }
        catch (AgentFsException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR) { return false; }
    }

    /// <summary>lstat of a path.</summary>
    public InodeAttributes GetAttributes(string path) => OnPath(path, () => ResolvePath(path).Record.ToAttributes());

    public byte[] ReadAllBytes(string path) => OnPath(path, () =>
    {
        var r = ResolvePath(path);
        if (r.Record.IsDirectory) throw new AgentFsException(Errno.EISDIR, $"{path} is a directory");
        if (!r.Record.IsRegular) throw new AgentFsException(Errno.EINVAL, $"{path} is not a regular file");
        var data = new byte[r.Record.Size];
        int done = 0;
        while (done < data.Length)
        {
            int n = Read(r.Ino, done, data.AsSpan(done, Math.Min(data.Length - done, 1 << 20)));
            if (n == 0) break;
            done += n;
        }
        return done == data.Length ? data : data[..done];
    });

    public string ReadAllText(string path) => Encoding.UTF8.GetString(ReadAllBytes(path));

    /// <summary>Creates or replaces the content of a file (like File.WriteAllBytes); mode applies to a new file.</summary>
    public void WriteAllBytes(string path, ReadOnlySpan<byte> data, uint mode = 0x1A4)
    {
        byte[] copy = data.ToArray();
        OnPath(path, () =>
        {
            ulong ino = CreateOrTruncate(path, mode);
            for (int done = 0; done < copy.Length;)
            {
                int n = Math.Min(copy.Length - done, 1 << 20);
                Write(ino, done, copy.AsSpan(done, n));
                done += n;
            }
            return 0;
        });
    }

    public void WriteAllText(string path, string text) => WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    /// <summary>Writes a stream into a file, creating or truncating it.</summary>
    public long WriteFrom(string path, Stream source, uint mode = 0x1A4) => OnPath(path, () =>
    {
        ulong ino = CreateOrTruncate(path, mode);
        byte[] buf = new byte[1 << 20];
        long pos = 0;
        int n;
        while ((n = source.ReadAtLeast(buf, buf.Length, throwOnEndOfStream: false)) > 0)
        {
            Write(ino, pos, buf.AsSpan(0, n));
            pos += n;
        }
        return pos;
    });

    private ulong CreateOrTruncate(string path, uint mode)
    {
        var (parent, name) = ResolveParent(path);
        try
        {
            var r = LookupCore(parent, name, out _);
            if (r.IsDirectory) throw new AgentFsException(Errno.EISDIR, $"{path} is a directory");
            if (!r.IsRegular) throw new AgentFsException(Errno.EINVAL, $"{path} is not a regular file");
            if (r.Size != 0) SetAttr(r.Ino, new SetAttrRequest(SetAttrFields.Size, Size: 0));
            return r.Ino;
        }
        catch (AgentFsException e) when (e.Errno == Errno.ENOENT)
        {
            return Create(parent, name, mode).Ino;
        }
    }

    /// <summary>mkdir -p: creates a directory and any missing parents (following symlinks like mkdir -p does);
    /// an existing directory is fine.</summary>
    public void CreateDirectory(string path, uint mode = 0x1ED) => OnPath(path, () =>
    {
        var parts = SplitPath(path);
        ulong ino = InodeNumbers.Root;
        for (int i = 0; i < parts.Count; i++)
        {
            string prefix = Join(parts, i + 1);
            Resolved r;
            try { r = ResolvePath(prefix, followFinal: true); }
            catch (AgentFsException e) when (e.Errno == Errno.ENOENT)
            {
                ino = Mkdir(ino, parts[i], mode).Ino;
                continue;
            }
            if (!r.Record.IsDirectory)
                throw new AgentFsException(i == parts.Count - 1 ? Errno.EEXIST : Errno.ENOTDIR, $"{prefix} exists and is not a directory");
            ino = r.Ino;
        }
        return 0;
    });

    /// <summary>Deletes a file, symlink or empty directory; with recursive, a whole tree.</summary>
    public void Delete(string path, bool recursive = false) => OnPath(path, () =>
    {
        var (parent, name) = ResolveParent(path);
        DeleteEntry(parent, name, recursive);
        return 0;
    });

    private void DeleteEntry(ulong parent, byte[] name, bool recursive)
    {
        var r = LookupCore(parent, name, out _);
        if (r.IsDirectory)
        {
            if (recursive)
                foreach (var e in ReadDirectory(r.Ino)) DeleteEntry(r.Ino, e.Name, true);
            Rmdir(parent, name);
        }
        else Unlink(parent, name);
    }

    /// <summary>rename(2) by path; with overwrite false the destination must not exist.</summary>
    public void Move(string from, string to, bool overwrite = true) => OnPath(from, () =>
    {
        RenamePaths(from, to, overwrite ? RenameFlags.None : RenameFlags.NoReplace);
        return 0;
    });

    /// <summary>renameat2(RENAME_EXCHANGE) by path: both must exist.</summary>
    public void Exchange(string a, string b) => OnPath(a, () =>
    {
        RenamePaths(a, b, RenameFlags.Exchange);
        return 0;
    });

    /// <summary>Checks in the order Linux's renameat2 does: both parents resolve, the source exists, NOREPLACE
    /// and EXCHANGE preconditions, the source is not an ancestor of the target (EINVAL), the target is not
    /// an ancestor of the source (ENOTEMPTY, or EINVAL for EXCHANGE); then the rename proper.</summary>
    private void RenamePaths(string from, string to, RenameFlags flags)
    {
        var (p1, n1, chain1) = ResolveParentChain(from);
        var (p2, n2, chain2) = ResolveParentChain(to);
        ulong src = LookupCore(p1, n1, out _).Ino;
        ulong? dst;
        try { dst = LookupCore(p2, n2, out _).Ino; }
        catch (AgentFsException e) when (e.Errno == Errno.ENOENT) { dst = null; }
        if ((flags & RenameFlags.NoReplace) != 0 && dst != null)
            throw new AgentFsException(Errno.EEXIST, $"{to} already exists");
        if ((flags & RenameFlags.Exchange) != 0 && dst == null)
            throw new AgentFsException(Errno.ENOENT, $"{to} does not exist");
        if (dst == src) return; // the same inode under both names: nothing to do
        // Ancestry by inode, as the kernel's lock_rename sees it (symlinks make path text misleading).
        if (chain2.Contains(src))
            throw new AgentFsException(Errno.EINVAL, $"cannot move {from} into itself ({to})");
        if (dst is ulong d && chain1.Contains(d))
            throw new AgentFsException((flags & RenameFlags.Exchange) != 0 ? Errno.EINVAL : Errno.ENOTEMPTY, $"cannot move {from} over its own ancestor {to}");
        Rename(p1, n1, p2, n2, flags);
    }

    /// <summary>The entries of a directory by path, sorted by name.</summary>
    public IReadOnlyList<DirectoryEntry> Enumerate(string path) => OnPath(path, () =>
    {
        var r = ResolvePath(path);
        var list = ReadDirectory(r.Ino);
        list.Sort((a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        return (IReadOnlyList<DirectoryEntry>)list;
    });

    public void CreateSymbolicLink(string path, string target) => OnPath(path, () =>
    {
        var (parent, name) = ResolveParent(path);
        Symlink(parent, name, Encoding.UTF8.GetBytes(target));
        return 0;
    });

    public string ReadSymbolicLink(string path) => OnPath(path, () => Encoding.UTF8.GetString(ReadLink(ResolvePath(path).Ino)));

    public void CreateHardLink(string path, string existing) => OnPath(path, () =>
    {
        var target = ResolvePath(existing);
        var (parent, name) = ResolveParent(path);
        Link(target.Ino, parent, name);
        return 0;
    });

    public void SetMode(string path, uint mode) => OnPath(path, () =>
        SetAttr(ResolvePath(path).Ino, new SetAttrRequest(SetAttrFields.Mode, Mode: mode)));

    public void SetTimes(string path, long atimeNs, long mtimeNs) => OnPath(path, () =>
        SetAttr(ResolvePath(path).Ino, new SetAttrRequest(SetAttrFields.Atime | SetAttrFields.Mtime, AtimeNs: atimeNs, MtimeNs: mtimeNs)));

    public void Truncate(string path, long size) => OnPath(path, () =>
        SetAttr(ResolvePath(path).Ino, new SetAttrRequest(SetAttrFields.Size, Size: size)));

    public void Fallocate(string path, long offset, long length, FallocateMode mode = FallocateMode.Allocate) => OnPath(path, () =>
    {
        Fallocate(ResolvePath(path).Ino, offset, length, mode);
        return 0;
    });

    /// <summary>Writes bytes at an offset of an existing file.</summary>
    public void WriteAt(string path, long offset, ReadOnlySpan<byte> data)
    {
        byte[] copy = data.ToArray();
        OnPath(path, () => Write(ResolvePath(path).Ino, offset, copy));
    }

    public void SetXattr(string path, string name, ReadOnlySpan<byte> value)
    {
        byte[] copy = value.ToArray();
        OnPath(path, () => { SetXattr(ResolvePath(path).Ino, name, copy); return 0; });
    }

    public byte[] GetXattr(string path, string name) => OnPath(path, () => GetXattr(ResolvePath(path).Ino, name));

    public IReadOnlyList<string> ListXattr(string path) => OnPath(path, () => ListXattr(ResolvePath(path).Ino));

    public void MakeNode(string path, uint mode, ulong rdev = 0) => OnPath(path, () =>
    {
        var (parent, name) = ResolveParent(path);
        return Mknod(parent, name, mode, rdev);
    });
}
