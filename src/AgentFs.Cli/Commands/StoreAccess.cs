namespace AgentFs.Cli.Commands;

/// <summary>
/// How commands open a store. Commands that only read open it read-only (no migration, no lease, nothing
/// written), so they work while a mount or another process is writing the same branch.
/// </summary>
internal static class StoreAccess
{
    public static AgentStore OpenForReading(string storePath) =>
        AgentStore.Open(CheckPath(storePath, "store path"), new StoreOptions { ReadOnly = true });

    public static AgentStore OpenForWriting(string storePath) =>
        AgentStore.Open(CheckPath(storePath, "store path"), StoreTuning.FromEnvironment());

    /// <summary>A host path (store, base) must be a usable file name before it reaches the file system.</summary>
    public static string CheckPath(string path, string what)
    {
        if (path.Length == 0)
            throw new AgentFsException(Errno.EINVAL, $"the {what} is empty; pass a file path");
        if (path.Contains('\0'))
            throw new AgentFsException(Errno.EINVAL, $"the {what} {path.Replace("\0", "\\0")} contains a NUL byte");
        return path;
    }
}
