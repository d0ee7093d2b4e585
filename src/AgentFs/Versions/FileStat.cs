namespace AgentFs;

/// <summary>Lines added and deleted in one change, as git's --stat counts them (bytes, for a binary file: new size
/// as insertions, old size as deletions). A change git does not show (a directory, a special file, permission
/// bits other than x) has ShownByGit false and zero counts.</summary>
public sealed record FileStat(FileChange Change, long Insertions, long Deletions, bool IsBinary, bool ShownByGit = true);
