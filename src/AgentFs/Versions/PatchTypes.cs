namespace AgentFs;

/// <summary>How <see cref="AgentStore.WritePatch"/> writes a patch.</summary>
public sealed class PatchOptions
{
    /// <summary>Binary files as <c>GIT binary patch</c> (true: what git apply needs) or as git diff's
    /// one-line "Binary files a/P and b/P differ" (false: for people reading a diff).</summary>
    public bool BinaryPatches { get; init; } = true;

    /// <summary>Lines of context around each change (git's default is 3).</summary>
    public int ContextLines { get; init; } = 3;

    /// <summary>Keep changes inside version-control internals (<c>.git</c>, <c>.hg</c>, <c>.jj</c>); see <see cref="DiffOptions.IncludeVcs"/>.</summary>
    public bool IncludeVcs { get; init; }
}

/// <summary>What a patch held: files in it (binary ones among them), changes git cannot express that were
/// left out (special files, permission bits other than x, directory modes, empty directories added or
/// deleted), and its size in bytes.</summary>
public sealed record PatchSummary(int Files, int BinaryFiles, int LeftOut, long Bytes)
{
    /// <summary>Changes inside version-control internals (<c>.git</c>, <c>.hg</c>, <c>.jj</c>) left out (0 with <see cref="PatchOptions.IncludeVcs"/>).</summary>
    public int VcsLeftOut { get; init; }
}

/// <summary>Lines added and deleted in one change, as git's --stat counts them (bytes, for a binary file: new size
/// as insertions, old size as deletions). A change git does not show (a directory, a special file, permission
/// bits other than x) has ShownByGit false and zero counts.</summary>
public sealed record FileStat(FileChange Change, long Insertions, long Deletions, bool IsBinary, bool ShownByGit = true);

/// <summary>Progress of a long operation: Done of Total items of a phase, and the path being worked on.</summary>
public readonly record struct VersionProgress(string Phase, long Done, long Total, string? Path);
