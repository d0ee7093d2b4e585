using System.Text;

namespace AgentFs;

/// <summary>
/// One changed path between two states. Paths are relative to the root, '/'-separated, without a leading
/// '/'; names are any bytes, so <see cref="RawPath"/> is exact and <see cref="Path"/> is its UTF-8 reading.
/// Directories are changes of their own (<see cref="IsDirectory"/>); git's formats leave them out.
/// </summary>
public sealed class FileChange
{
    internal FileChange(ChangeKind kind, byte[] path, byte[]? oldPath, FileVersion? old, FileVersion? @new)
    {
        Kind = kind;
        RawPath = path;
        RawOldPath = oldPath;
        Old = old;
        New = @new;
    }

    public ChangeKind Kind { get; }
    /// <summary>The path (for a rename: the new one).</summary>
    public byte[] RawPath { get; }
    /// <summary>For a rename, the old path; otherwise null.</summary>
    public byte[]? RawOldPath { get; }
    public string Path => Encoding.UTF8.GetString(RawPath);
    public string? OldPath => RawOldPath == null ? null : Encoding.UTF8.GetString(RawOldPath);
    /// <summary>What the older state held (null when added).</summary>
    public FileVersion? Old { get; }
    /// <summary>What the newer state holds (null when deleted).</summary>
    public FileVersion? New { get; }

    public bool IsDirectory => (New ?? Old)!.Type == FileType.Directory && (Old == null || New == null || Old.Type == New.Type);
    /// <summary>Bytes (or link target) differ; false for a pure mode change or a rename.</summary>
    public bool ContentChanged { get; internal set; }
    /// <summary>Permission bits differ (any of the twelve, not only the x bit git keeps).</summary>
    public bool ModeChanged => Old != null && New != null && Old.Permissions != New.Permissions;

    /// <summary>The git blob ids of the two sides, when they were computed (rename detection, patches).</summary>
    internal string? OldOid, NewOid;

    public override string ToString() => Kind == ChangeKind.Renamed ? $"{Kind} {OldPath} -> {Path}" : $"{Kind} {Path}";
}
