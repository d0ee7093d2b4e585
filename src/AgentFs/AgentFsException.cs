namespace AgentFs;

/// <summary>
/// The one exception type of the library. <see cref="Errno"/> is what the FUSE boundary returns to the
/// kernel; <see cref="Exception.Message"/> is one line for a person: what happened, to which store, path
/// or branch, and what to do next.
/// </summary>
public sealed class AgentFsException : Exception
{
    public AgentFsException(int errno, string message, Exception? inner = null) : base(message, inner) => Errno = errno;

    /// <summary>The errno this error maps to (see <see cref="AgentFs.Errno"/>).</summary>
    public int Errno { get; }

    /// <summary>True for errors a user caused (bad path, unknown branch); false for faults of the store.</summary>
    public bool IsUserError => Errno != AgentFs.Errno.EIO;
}
