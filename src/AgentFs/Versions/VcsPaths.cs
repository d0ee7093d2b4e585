namespace AgentFs.Versions;

/// <summary>
/// Version-control internals: a path with a component named <c>.git</c> (a repository's directory, or the gitfile
/// of a worktree or submodule), <c>.hg</c> or <c>.jj</c>. diff, patch, stat, trace and apply leave them out unless
/// asked (<see cref="DiffOptions.IncludeVcs"/>): a patch holding <c>.git/index</c> is one <c>git apply</c> refuses,
/// and copying a repository's files over another's rewrites its index and refs. The agent's commits travel as
/// commits instead (<see cref="GitSession"/>).
/// </summary>
internal static class VcsPaths
{
    private static readonly byte[][] Names = [".git"u8.ToArray(), ".hg"u8.ToArray(), ".jj"u8.ToArray()];

    /// <summary>True when a component of the '/'-separated path is a version-control directory or gitfile.</summary>
    public static bool IsInternal(ReadOnlySpan<byte> path)
    {
        while (path.Length > 0)
        {
            int slash = path.IndexOf((byte)'/');
            var component = slash < 0 ? path : path[..slash];
            foreach (var n in Names)
                if (component.SequenceEqual(n)) return true;
            if (slash < 0) break;
            path = path[(slash + 1)..];
        }
        return false;
    }

    /// <summary>The index of the first component named <c>.git</c> (its byte offset), or -1.</summary>
    public static int GitComponent(ReadOnlySpan<byte> path)
    {
        int offset = 0;
        while (offset <= path.Length)
        {
            var rest = path[offset..];
            int slash = rest.IndexOf((byte)'/');
            var component = slash < 0 ? rest : rest[..slash];
            if (component.SequenceEqual(".git"u8)) return offset;
            if (slash < 0) return -1;
            offset += slash + 1;
        }
        return -1;
    }

    /// <summary>
    /// True for a file under a <c>.git/objects/</c> directory: a loose object or a pack, named after its content and
    /// never rewritten by git. Only its times change in place: git freshens an object it would write again (utime,
    /// which an agent's commit does through the mount, copying it up), and <c>git clone</c> of the base hard-links
    /// objects (ctime). Neither changes what the store read, so base drift checks ignore times there.
    /// </summary>
    public static bool IsGitObjectFile(ReadOnlySpan<byte> path)
    {
        int git = GitComponent(path);
        return git >= 0 && path[git..].StartsWith(".git/objects/"u8);
    }

    /// <summary>
    /// Removes the changes inside version-control internals; returns how many. A rename between an internal path
    /// and an ordinary one counts as internal when both sides are (otherwise it stays: the ordinary side matters).
    /// </summary>
    public static int LeaveOut(List<FileChange> changes) =>
        changes.RemoveAll(c => IsInternal(c.RawPath) && (c.RawOldPath == null || IsInternal(c.RawOldPath)));
}
