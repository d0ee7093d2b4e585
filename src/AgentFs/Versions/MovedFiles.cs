namespace AgentFs.Versions;

/// <summary>
/// Files that were moved and then changed. The diff pairs a deletion and an addition as a rename only when the
/// content is identical (git's exact rename detection, <see cref="TreeDiffer"/>); a file moved and then edited is
/// a deletion at the old path and an addition at the new one, but the inode says it is one file. Who attributes
/// lines to a change (Agent Trace) diffs such a file against its old content instead of calling it all new.
/// </summary>
internal static class MovedFiles
{
    /// <summary>For each addition of a regular file whose inode the same changes delete at another path: that
    /// deletion (the first one in path order, when several share the inode).</summary>
    public static Dictionary<FileChange, FileChange> Find(IReadOnlyList<FileChange> changes)
    {
        var deletedByInode = new Dictionary<ulong, FileChange>();
        foreach (var c in changes)
            if (c.Kind == ChangeKind.Deleted && c.Old!.Type == FileType.File) deletedByInode.TryAdd(c.Old.Ino, c);
        var movedFrom = new Dictionary<FileChange, FileChange>(ReferenceEqualityComparer.Instance);
        foreach (var c in changes)
            if (c.Kind == ChangeKind.Added && c.New!.Type == FileType.File && deletedByInode.Remove(c.New.Ino, out var old))
                movedFrom[c] = old;
        return movedFrom;
    }
}
