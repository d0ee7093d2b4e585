using System.Text;

namespace AgentFs.Store;

/// <summary>
/// The one place where errors about a damaged (or hostile) store file are made. A store file is untrusted input:
/// every row is checked where it is decoded, once, and anything agentfs never writes (a name that is not a file
/// name, a chunk outside its file, a negative size, an undecodable xattr blob, a mode of no file type, a directory
/// inside itself, a schema or layer graph not ours) becomes this error instead of being served, followed or
/// skipped. Its message is one line: the store, where (the path when the caller knows it, else the inode and
/// layer), what is wrong, and what to do (restore a backup). Errno is EIO, which is what a FUSE mount answers.
/// </summary>
internal static class StoreCorruption
{
    /// <summary>"store S is corrupt: DETAIL; restore it from a backup (agentfs restore BACKUP S)".</summary>
    public static AgentFsException Error(string store, string detail, Exception? inner = null) => Make(store, detail, null, inner);

    /// <summary>The same error naming the path it was met at (a path in the branch, shown as /path), unless it names
    /// one already; any other error is returned as it is.</summary>
    public static AgentFsException AtPath(AgentFsException e, string path)
    {
        if (e.CorruptStore == null || e.CorruptPath != null) return e;
        return Make(e.CorruptStore, e.CorruptDetail!, "/" + path.TrimStart('/'), e);
    }

    /// <summary><see cref="AtPath(AgentFsException, string)"/> for a byte path of a state ("" is the root).</summary>
    public static AgentFsException AtPath(AgentFsException e, ReadOnlySpan<byte> path) =>
        e.CorruptStore == null || e.CorruptPath != null ? e : AtPath(e, Show(path, limit: 4096));

    private static AgentFsException Make(string store, string detail, string? path, Exception? inner) =>
        new(Errno.EIO, $"store {store} is corrupt{(path == null ? "" : " at " + path)}: {detail}; " +
                       $"restore it from a backup (agentfs restore BACKUP {store})", inner)
        {
            CorruptStore = store, CorruptDetail = detail, CorruptPath = path,
        };

    /// <summary>
    /// A file (or a backup being restored) whose schema or layer graph is not one this agentfs makes:
    /// "the store S is not a valid AgentFs store: WHY; restore it from a backup (...)".
    /// </summary>
    public static AgentFsException NotAStore(string path, string what, string why) =>
        new(Errno.EIO, $"the {what} {path} is not a valid AgentFs store: {why}; " +
                       (what == "store" ? $"restore it from a backup ('agentfs restore BACKUP {path}')" : "nothing was written; use another backup"))
        {
            CorruptStore = what == "store" ? path : null, CorruptDetail = why,
        };

    /// <summary>
    /// Why a name read from a dentry row is not a file name (empty, longer than 255 bytes, '.', '..', or holding '/'
    /// or NUL), or null when it is one. A few byte checks: run on every row where rows are decoded.
    /// </summary>
    public static string? BadName(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty) return "an empty name";
        if (name.Length > AgentFileSystem.NameMax) return $"a name of {name.Length} bytes (at most {AgentFileSystem.NameMax})";
        if (name.IndexOfAny((byte)'/', (byte)0) >= 0) return $"the name '{Show(name)}', which holds '/' or NUL";
        if (name.Length <= 2 && name[0] == (byte)'.' && (name.Length == 1 || name[1] == (byte)'.')) return $"the name '{Show(name)}'";
        return null;
    }

    /// <summary>An error for a dentry row whose name is not a file name.</summary>
    public static AgentFsException BadNameError(string store, ulong parent, long layer, string why) =>
        Error(store, $"directory inode {parent} has an entry with {why} (dentry row of layer {layer}); names are 1 to 255 bytes, not '.' or '..', without '/' or NUL");

    /// <summary>Bytes from the store for a one-line message: UTF-8 with NUL as \0, other control characters as \xNN,
    /// at most <paramref name="limit"/> characters.</summary>
    public static string Show(ReadOnlySpan<byte> bytes, int limit = 100)
    {
        string s = Encoding.UTF8.GetString(bytes);
        var sb = new StringBuilder(Math.Min(s.Length, limit + 3));
        foreach (char ch in s)
        {
            if (sb.Length >= limit) return sb.Append("...").ToString();
            if (ch == '\0') sb.Append("\\0");
            else if (char.IsControl(ch)) sb.Append($"\\x{(int)ch:x2}");
            else sb.Append(ch);
        }
        return sb.ToString();
    }
}
