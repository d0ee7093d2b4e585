using System.Runtime.InteropServices;
using System.Text;

namespace AgentFs.Native;

/// <summary>
/// Whether a path is a directory or lies below it, judged by what the paths are, not by how they are spelled: a
/// symlink, '..' after a symlink or a bind mount of the directory elsewhere all name the same directory under
/// another string. Used where writing into the base, or mounting over a part of it, must be refused: the base is
/// never written, and a mount inside the base makes the serving process read its own mount and hang.
/// </summary>
internal static unsafe partial class PathContainment
{
    private const int PathMax = 4096;

    [LibraryImport("libc", SetLastError = true)]
    private static partial byte* realpath(byte* path, byte* resolved);

    /// <summary>realpath(3): the absolute path without symlinks, '.' or '..'; null when it cannot be resolved.</summary>
    public static string? RealPath(string path)
    {
        byte[] z = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, z);
        byte* resolved = stackalloc byte[PathMax];
        fixed (byte* p = z)
            if (realpath(p, resolved) == null) return null;
        return Marshal.PtrToStringUTF8((nint)resolved);
    }

    /// <summary>The real path of a path that may not exist yet: its directory resolved, its own name kept.</summary>
    public static string? RealPathOfNew(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd('/');
        if (full.Length == 0) return "/";
        string? dir = Path.GetDirectoryName(full);
        if (dir == null) return full;
        string? realDir = RealPath(dir);
        return realDir == null ? null : Path.Combine(realDir, Path.GetFileName(full));
    }

    /// <summary>(st_dev, st_ino) of a path, following symlinks; false when it cannot be stat'ed.</summary>
    public static bool TryIdentity(string path, out ulong dev, out ulong ino)
    {
        byte[] z = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, z);
        byte* buf = stackalloc byte[256];
        int rc;
        fixed (byte* p = z) rc = LibC.statx(LibC.AT_FDCWD, p, 0, LibC.STATX_BASIC_STATS, buf);
        if (rc != 0)
        {
            dev = ino = 0;
            return false;
        }
        var st = BaseDirectory.Parse(new ReadOnlySpan<byte>(buf, 256));
        dev = st.Dev;
        ino = st.Ino;
        return true;
    }

    /// <summary>
    /// Whether <paramref name="realPath"/> (a real path, see <see cref="RealPath"/>) is the directory
    /// (<paramref name="dirDev"/>, <paramref name="dirIno"/>) whose real path is <paramref name="dirRealPath"/>, or lies
    /// below it: by the strings, and by the identity of each ancestor of the path (itself included), which also
    /// catches the directory reached through a bind mount of it elsewhere.
    /// </summary>
    public static bool IsSameOrBelow(string realPath, string? dirRealPath, ulong dirDev, ulong dirIno)
    {
        if (dirRealPath != null && (dirRealPath == "/" || realPath == dirRealPath || realPath.StartsWith(dirRealPath + "/", StringComparison.Ordinal)))
            return true;
        for (string? p = realPath; p != null; p = Path.GetDirectoryName(p))
            if (TryIdentity(p, out ulong dev, out ulong ino) && dev == dirDev && ino == dirIno) return true;
        return false;
    }

    /// <summary>
    /// Whether <paramref name="path"/> (existing, or a new name in an existing directory) is the directory
    /// <paramref name="directory"/> or lies below it; also returns both real paths for a message.
    /// </summary>
    public static bool IsSameOrBelow(string path, string directory, out string realPath, out string realDirectory)
    {
        realPath = RealPath(path) ?? RealPathOfNew(path) ?? Path.GetFullPath(path);
        realDirectory = RealPath(directory) ?? Path.GetFullPath(directory);
        return TryIdentity(directory, out ulong dev, out ulong ino)
            ? IsSameOrBelow(realPath, realDirectory, dev, ino)
            : realPath == realDirectory || realPath.StartsWith(realDirectory.TrimEnd('/') + "/", StringComparison.Ordinal);
    }
}
