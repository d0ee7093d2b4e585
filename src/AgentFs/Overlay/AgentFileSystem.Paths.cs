using System.Buffers;
using System.Text;
using AgentFs.Overlay;
using AgentFs.Store;

namespace AgentFs;

/// <summary>
/// The path API, for orchestrators: paths are relative to the branch's root ('/'-separated; a leading '/' is
/// allowed; '.' and '..' are taken lexically, and '..' at the root stays there), are never resolved outside it,
/// and follow symbolic links in the middle of a path. At the end of a path a symbolic link is followed where a
/// user expects it: reading a file or listing a directory follows it (like cat and ls), describing or changing
/// the name itself does not (like lstat, rm, mv); <c>followSymlinks</c>
/// chooses where both make sense. Every error names the full path as the caller gave it (in the
/// <see cref="NormalizePath"/> form) and the branch, and the component where it failed when that is another.
/// </summary>
public sealed partial class AgentFileSystem
{
    /// <summary>Symbolic links followed in one path before it fails with ELOOP (Linux's MAXSYMLINKS).</summary>
    private const int MaxSymlinks = 40;

    /// <summary>A resolved path: the inode, its record, its parent and name, and the inodes from the root
    /// down to it (after following symlinks), which is what ancestry checks compare.</summary>
    private readonly record struct Resolved(ulong Ino, InodeRecord Record, ulong Parent, byte[] Name, List<ulong> Chain);

    /// <summary>The form in which the path API names a path: '/'-rooted, without empty, '.' or '..' parts ('..' is
    /// taken lexically, and at the root stays there), so <c>a//b/./c/..</c> is <c>/a/b</c>. EINVAL for a NUL byte.</summary>
    public static string NormalizePath(string path) => "/" + string.Join('/', SplitPath(path).Select(b => Encoding.UTF8.GetString(b)));

    private static List<byte[]> SplitPath(string path)
    {
        if (path.Contains('\0')) throw new AgentFsException(Errno.EINVAL, $"path {path.Replace("\0", "\\0")} contains a NUL byte") { NamesPath = true };
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

    private static string Join(List<byte[]> parts, int count) =>
        "/" + string.Join('/', parts.Take(count).Select(b => Encoding.UTF8.GetString(b)));

    /// <summary>An error of the path API: "/a/b/c does not exist in branch main", or, when it failed at another
    /// component, "/a/b/c: /a does not exist in branch main". Marked as naming its path, so no caller adds it again.</summary>
    private AgentFsException PathError(int errno, string path, string? at, string what) =>
        new(errno, at == null || at == path ? $"{path} {what} in branch {Branch}" : $"{path}: {at} {what} in branch {Branch}") { NamesPath = true };

    /// <summary>Runs one operation of the path API on path: an error of the inode API below it (which names an inode
    /// or a single name) is said again with the full path; errors of the path walk name it already.</summary>
    private T OnPath<T>(string path, Func<T> operation)
    {
        try { return operation(); }
        catch (AgentFsException e) when (e.IsStoreCorrupt) { throw e.WithPath(NormalizePath(path)); }
        catch (AgentFsException e) when (!e.NamesPath)
        {
            throw new AgentFsException(e.Errno, $"{NormalizePath(path)} in branch {Branch}: {e.Message}", e) { NamesPath = true };
        }
    }

    private Resolved ResolvePath(string path, bool followFinal = false) => ResolvePath(SplitPath(path), NormalizePath(path), followFinal);

    /// <summary>Walks parts from the root; shown is the path the caller gave, which every error names.</summary>
    private Resolved ResolvePath(List<byte[]> parts, string shown, bool followFinal)
    {
        int symlinksLeft = MaxSymlinks;
        while (true)
        {
            ulong ino = InodeNumbers.Root;
            var rec = GetRecord(InodeNumbers.Root);
            ulong parent = InodeNumbers.Root;
            byte[] name = [];
            var chain = new List<ulong> { InodeNumbers.Root };
            List<byte[]>? expanded = null;
            for (int i = 0; i < parts.Count && expanded == null; i++)
            {
                if (!rec.IsDirectory) throw PathError(Errno.ENOTDIR, shown, Join(parts, i), "is not a directory");
                parent = ino;
                name = parts[i];
                rec = LookupAt(ino, name, shown, Join(parts, i + 1));
                ino = rec.Ino;
                chain.Add(ino);
                if (rec.IsSymlink && (i < parts.Count - 1 || followFinal))
                {
                    if (--symlinksLeft < 0) throw PathError(Errno.ELOOP, shown, null, "has too many levels of symbolic links (a loop?)");
                    string target = Encoding.UTF8.GetString(ReadLink(ino));
                    string dir = target.StartsWith('/') ? "" : Join(parts, i);
                    string rest = string.Join('/', parts.Skip(i + 1).Select(b => Encoding.UTF8.GetString(b)));
                    expanded = SplitPath(dir + "/" + target + "/" + rest);
                }
            }
            if (expanded == null) return new Resolved(ino, rec, parent, name, chain);
            parts = expanded;
        }
    }

    /// <summary>The record of name in directory parent; ENOENT naming at (the path so far) and shown (the whole path).</summary>
    private InodeRecord LookupAt(ulong parent, byte[] name, string shown, string at)
    {
        try { return LookupCore(parent, name, out _); }
        catch (AgentFsException e) when (e.Errno == Errno.ENOENT) { throw PathError(Errno.ENOENT, shown, at, "does not exist"); }
    }

    private (ulong Parent, byte[] Name) ResolveParent(string path)
    {
        var (parent, name, _, _) = ResolveParentChain(path);
        return (parent, name);
    }

    /// <summary>The directory a path's last name is in (symlinks followed), the name, the inodes from the root to that
    /// directory, and the path as errors name it.</summary>
    private (ulong Parent, byte[] Name, List<ulong> Chain, string Shown) ResolveParentChain(string path)
    {
        var parts = SplitPath(path);
        string shown = Join(parts, parts.Count);
        if (parts.Count == 0) throw PathError(Errno.EINVAL, shown, null, "is the root, which is no name in a directory");
        var p = ResolvePath(parts[..^1], shown, followFinal: true);
        if (!p.Record.IsDirectory) throw PathError(Errno.ENOTDIR, shown, Join(parts, parts.Count - 1), "is not a directory");
        return (p.Ino, parts[^1], p.Chain, shown);
    }

    /// <summary>Whether path names something; with followSymlinks, a symbolic link at its end must lead somewhere
    /// (like test -e; without, like test -L || test -e). A path that cannot be resolved (a missing or non-directory
    /// component, a symbolic link loop) does not exist.</summary>
    public bool Exists(string path, bool followSymlinks = false)
    {
        try { ResolvePath(path, followSymlinks); return true; }
        catch (AgentFsException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR or Errno.ELOOP) { return false; }
    }

    /// <summary>The attributes of path: of a symbolic link itself (lstat), or with followSymlinks of what it leads to (stat).</summary>
    public InodeAttributes GetAttributes(string path, bool followSymlinks = false) =>
        OnPath(path, () => ResolvePath(path, followSymlinks).Record.ToAttributes());

    /// <summary>The resolved regular file at path (symbolic links followed unless followSymlinks is false).</summary>
    private Resolved ResolveRegularFile(string path, bool followSymlinks)
    {
        var r = ResolvePath(path, followSymlinks);
        if (r.Record.IsDirectory) throw PathError(Errno.EISDIR, NormalizePath(path), null, "is a directory");
        if (!r.Record.IsRegular) throw PathError(Errno.EINVAL, NormalizePath(path), null, $"is a {PosixMode.TypeName(r.Record.Mode).Replace('_', ' ')}, not a regular file");
        return r;
    }

    /// <summary>The content of a file; a symbolic link is followed unless followSymlinks is false (then EINVAL for a link).</summary>
    public byte[] ReadAllBytes(string path, bool followSymlinks = true) => OnPath(path, () =>
    {
        var r = ResolveRegularFile(path, followSymlinks);
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

    /// <summary>The content of a file as UTF-8 text, as <see cref="ReadAllBytes"/> reads it.</summary>
    public string ReadAllText(string path, bool followSymlinks = true) => Encoding.UTF8.GetString(ReadAllBytes(path, followSymlinks));

    /// <summary>Copies the content of a file to a stream (a file of any size, in 1 MiB pieces); returns the bytes copied.
    /// A symbolic link is followed unless followSymlinks is false.</summary>
    public long ReadTo(string path, Stream destination, bool followSymlinks = true) => OnPath(path, () =>
    {
        ulong ino = ResolveRegularFile(path, followSymlinks).Ino;
        byte[] buf = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long offset = 0;
            int n;
            while ((n = Read(ino, offset, buf)) > 0)
            {
                destination.Write(buf, 0, n);
                offset += n;
            }
            return offset;
        }
        finally { ArrayPool<byte>.Shared.Return(buf); }
    });

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

    /// <summary>Creates or replaces the content of a file with UTF-8 text.</summary>
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
        var (parent, name, _, shown) = ResolveParentChain(path);
        if (!TryLookup(parent, name, out var existing)) return Create(parent, name, mode).Ino;
        if (existing.IsDirectory) throw PathError(Errno.EISDIR, shown, null, "is a directory");
        if (!existing.IsRegular) throw PathError(Errno.EINVAL, shown, null, $"is a {PosixMode.TypeName(existing.Mode).Replace('_', ' ')}, not a regular file");
        if (existing.Size != 0) SetAttr(existing.Ino, new SetAttrRequest(SetAttrFields.Size, Size: 0));
        return existing.Ino;
    }

    /// <summary>mkdir -p: creates a directory and any missing parents (following symlinks like mkdir -p does);
    /// an existing directory is fine.</summary>
    public void CreateDirectory(string path, uint mode = 0x1ED) => OnPath(path, () =>
    {
        var parts = SplitPath(path);
        string shown = Join(parts, parts.Count);
        ulong ino = InodeNumbers.Root;
        for (int i = 0; i < parts.Count; i++)
        {
            string prefix = Join(parts, i + 1);
            Resolved r;
            try { r = ResolvePath(parts[..(i + 1)], shown, followFinal: true); }
            catch (AgentFsException e) when (e.Errno == Errno.ENOENT)
            {
                ino = Mkdir(ino, parts[i], mode).Ino;
                continue;
            }
            if (!r.Record.IsDirectory)
                throw PathError(i == parts.Count - 1 ? Errno.EEXIST : Errno.ENOTDIR, shown, prefix, "exists and is not a directory");
            ino = r.Ino;
        }
        return 0;
    });

    /// <summary>Deletes a file, symlink or empty directory; with recursive, a whole tree.</summary>
    public void Delete(string path, bool recursive = false) => OnPath(path, () =>
    {
        var (parent, name, _, shown) = ResolveParentChain(path);
        DeleteEntry(parent, name, recursive, shown);
        return 0;
    });

    private void DeleteEntry(ulong parent, byte[] name, bool recursive, string shown)
    {
        var r = LookupAt(parent, name, shown, shown);
        if (r.IsDirectory)
        {
            if (recursive)
                foreach (var e in ReadDirectory(r.Ino)) DeleteEntry(r.Ino, e.Name, true, shown);
            Rmdir(parent, name);
        }
        else Unlink(parent, name);
    }

    /// <summary>rename(2) by path; with overwrite false the destination must not exist.</summary>
    public void Move(string from, string to, bool overwrite = true) =>
        OnTwoPaths(from, to, () => RenamePaths(from, to, overwrite ? RenameFlags.None : RenameFlags.NoReplace));

    /// <summary>renameat2(RENAME_EXCHANGE) by path: both must exist.</summary>
    public void Exchange(string a, string b) => OnTwoPaths(a, b, () => RenamePaths(a, b, RenameFlags.Exchange));

    /// <summary><see cref="OnPath"/> for an operation on two paths: an error of the inode API names both.</summary>
    private void OnTwoPaths(string from, string to, Action operation)
    {
        try { operation(); }
        catch (AgentFsException e) when (e.IsStoreCorrupt) { throw e.WithPath(NormalizePath(from)); }
        catch (AgentFsException e) when (!e.NamesPath)
        {
            throw new AgentFsException(e.Errno, $"{NormalizePath(from)} -> {NormalizePath(to)} in branch {Branch}: {e.Message}", e) { NamesPath = true };
        }
    }

    /// <summary>Checks in the order Linux's renameat2 does: both parents resolve, the source exists, NOREPLACE
    /// and EXCHANGE preconditions, the source is not an ancestor of the target (EINVAL), the target is not
    /// an ancestor of the source (ENOTEMPTY, or EINVAL for EXCHANGE); then the rename proper.</summary>
    private void RenamePaths(string from, string to, RenameFlags flags)
    {
        var (p1, n1, chain1, shown1) = ResolveParentChain(from);
        var (p2, n2, chain2, shown2) = ResolveParentChain(to);
        ulong src = LookupAt(p1, n1, shown1, shown1).Ino;
        ulong? dst = TryLookup(p2, n2, out var existing) ? existing.Ino : null;
        if ((flags & RenameFlags.NoReplace) != 0 && dst != null)
            throw PathError(Errno.EEXIST, shown2, null, "already exists");
        if ((flags & RenameFlags.Exchange) != 0 && dst == null)
            throw PathError(Errno.ENOENT, shown2, null, "does not exist");
        if (dst == src) return; // the same inode under both names: nothing to do
        // Ancestry by inode, as the kernel's lock_rename sees it (symlinks make path text misleading).
        if (chain2.Contains(src))
            throw PathError(Errno.EINVAL, shown1, null, $"cannot move into itself ({shown2})");
        if (dst is ulong d && chain1.Contains(d))
            throw PathError((flags & RenameFlags.Exchange) != 0 ? Errno.EINVAL : Errno.ENOTEMPTY, shown1, null, $"cannot move over its own ancestor {shown2}");
        Rename(p1, n1, p2, n2, flags);
    }

    /// <summary>The entries of a directory by path, sorted by name; a symbolic link to a directory is listed
    /// (like ls PATH) unless followSymlinks is false.</summary>
    public IReadOnlyList<DirectoryEntry> Enumerate(string path, bool followSymlinks = true) => OnPath(path, () =>
    {
        var r = ResolvePath(path, followSymlinks);
        if (!r.Record.IsDirectory) throw PathError(Errno.ENOTDIR, NormalizePath(path), null, "is not a directory");
        var list = ReadDirectory(r.Ino);
        list.Sort((a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        return (IReadOnlyList<DirectoryEntry>)list;
    });

    /// <summary>Makes a symbolic link at path with the given target text (not checked, not resolved).</summary>
    public void CreateSymbolicLink(string path, string target) => OnPath(path, () =>
    {
        var (parent, name) = ResolveParent(path);
        Symlink(parent, name, Encoding.UTF8.GetBytes(target));
        return 0;
    });

    /// <summary>The target text of the symbolic link at path.</summary>
    public string ReadSymbolicLink(string path) => OnPath(path, () => Encoding.UTF8.GetString(ReadLink(ResolvePath(path).Ino)));

    /// <summary>Makes path a new name for the file at existing (a symbolic link there is linked itself, as ln does).</summary>
    public void CreateHardLink(string path, string existing) => OnTwoPaths(existing, path, () =>
    {
        var target = ResolvePath(existing);
        var (parent, name) = ResolveParent(path);
        Link(target.Ino, parent, name);
    });

    /// <summary>chmod: the permission bits (and set-id and sticky bits) of what path names.</summary>
    public void SetMode(string path, uint mode) => OnPath(path, () =>
        SetAttr(ResolvePath(path).Ino, new SetAttrRequest(SetAttrFields.Mode, Mode: mode)));

    /// <summary>utimensat: access and modification times in nanoseconds since the epoch.</summary>
    public void SetTimes(string path, long atimeNs, long mtimeNs) => OnPath(path, () =>
        SetAttr(ResolvePath(path).Ino, new SetAttrRequest(SetAttrFields.Atime | SetAttrFields.Mtime, AtimeNs: atimeNs, MtimeNs: mtimeNs)));

    /// <summary>truncate: sets the size of a file (zeros when it grows).</summary>
    public void Truncate(string path, long size) => OnPath(path, () =>
        SetAttr(ResolvePath(path).Ino, new SetAttrRequest(SetAttrFields.Size, Size: size)));

    /// <summary>fallocate by path; see <see cref="InodeOperations.Fallocate"/>.</summary>
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

    /// <summary>setxattr by path (creates or replaces the attribute).</summary>
    public void SetXattr(string path, string name, ReadOnlySpan<byte> value)
    {
        byte[] copy = value.ToArray();
        OnPath(path, () => { SetXattr(ResolvePath(path).Ino, name, copy); return 0; });
    }

    /// <summary>getxattr by path (ENODATA when missing).</summary>
    public byte[] GetXattr(string path, string name) => OnPath(path, () => GetXattr(ResolvePath(path).Ino, name));

    /// <summary>listxattr by path.</summary>
    public IReadOnlyList<string> ListXattr(string path) => OnPath(path, () => ListXattr(ResolvePath(path).Ino));

    /// <summary>mknod by path: a fifo, socket or device node (as metadata).</summary>
    public void MakeNode(string path, uint mode, ulong rdev = 0) => OnPath(path, () =>
    {
        var (parent, name) = ResolveParent(path);
        return Mknod(parent, name, mode, rdev);
    });
}
