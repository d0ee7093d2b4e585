namespace AgentFs;

/// <summary>How a path differs between two states (git's A, D, M, T, R).</summary>
public enum ChangeKind
{
    /// <summary>The path exists only in the newer state.</summary>
    Added,
    /// <summary>The path exists only in the older state.</summary>
    Deleted,
    /// <summary>Same type at both sides; content, link target or permission bits differ.</summary>
    Modified,
    /// <summary>A file became a symlink or the other way round (not directories: those are a delete and an add).</summary>
    TypeChanged,
    /// <summary>Deleted at <see cref="FileChange.OldPath"/> and added at <see cref="FileChange.Path"/> with identical content.</summary>
    Renamed,
}
