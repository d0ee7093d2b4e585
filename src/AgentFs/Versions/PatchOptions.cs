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
