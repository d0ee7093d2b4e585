namespace AgentFs;

/// <summary>
/// The one exception type of the library. <see cref="Errno"/> is what the FUSE boundary returns to the
/// kernel; <see cref="Exception.Message"/> is one line for a person: what happened, to which store, path
/// or branch, and what to do next.
/// </summary>
public sealed class AgentFsException : Exception
{
    /// <summary>An error with its errno and its one-line message for a person.</summary>
    public AgentFsException(int errno, string message, Exception? inner = null) : base(message, inner) => Errno = errno;

    /// <summary>The errno this error maps to (see <see cref="AgentFs.Errno"/>).</summary>
    public int Errno { get; }

    /// <summary>True for errors a user caused (bad path, unknown branch); false for faults of the store.</summary>
    public bool IsUserError => Errno != AgentFs.Errno.EIO;

    /// <summary>True when the store file is damaged (or was edited): a row agentfs never writes. Restore it from a
    /// backup (<c>agentfs restore</c>); nothing was written.</summary>
    public bool IsStoreCorrupt => CorruptStore != null;

    /// <summary>This error naming the path (in the branch) where it was met, when it is about a corrupt store and
    /// names no path yet (the library's inode-level checks know only the inode and layer); otherwise this error.</summary>
    public AgentFsException WithPath(string path) => Store.StoreCorruption.AtPath(this, path);

    /// <summary>Set by the path API on the errors it makes: they name the full path already, so no caller
    /// (nor the path API itself, around an inode-level call) says it again.</summary>
    internal bool NamesPath { get; init; }

    // Set by Store.StoreCorruption, which alone makes these errors, so a caller that knows the path can add it.
    internal string? CorruptStore { get; init; }
    internal string? CorruptDetail { get; init; }
    internal string? CorruptPath { get; init; }
}
