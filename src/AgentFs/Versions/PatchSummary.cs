namespace AgentFs;

/// <summary>What a patch held: files in it (binary ones among them), changes git cannot express that were
/// left out (special files, permission bits other than x, directory modes, empty directories added or
/// deleted), and its size in bytes.</summary>
public sealed record PatchSummary(int Files, int BinaryFiles, int LeftOut, long Bytes)
{
    /// <summary>Changes inside version-control internals (<c>.git</c>, <c>.hg</c>, <c>.jj</c>) left out (0 with <see cref="PatchOptions.IncludeVcs"/>).</summary>
    public int VcsLeftOut { get; init; }
}
