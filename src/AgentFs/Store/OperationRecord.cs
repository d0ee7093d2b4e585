namespace AgentFs;

/// <summary>
/// One event of the operation log: a filesystem operation (Op is create, mkdir, mknod, symlink, link, unlink,
/// rmdir, rename, write, fallocate, setattr, setxattr, removexattr), or, in the stream 'agentfs ops' prints, a
/// checkpoint marker (Op "checkpoint", <see cref="CheckpointId"/>, Detail = its message) or a connection of the
/// sandbox's network proxy (Op "net", Detail = what the proxy reported).
/// </summary>
/// <param name="Seq">Position in the store's log (0 for markers and for rows of stores older than schema 3).</param>
/// <param name="TimeNs">When it happened, nanoseconds since the Unix epoch (UTC).</param>
/// <param name="Path">The path it acted on as it was then, relative to the branch root ('.' is the root); null
/// when not known (rows written before schema version 3 name only the inode, its directory and name).</param>
/// <param name="To">A rename's new path.</param>
/// <param name="Bytes">Bytes written (write, fallocate, setxattr), or the new size of a truncate (setattr).</param>
public sealed record OperationRecord(long Seq, long TimeNs, string Branch, long Layer, string Op, string? Path, string? To,
    ulong Ino, long Bytes, int Pid, uint Uid, string ProcessName)
{
    /// <summary><see cref="TimeNs"/> as a UTC time (to the 100 ns tick).</summary>
    public DateTimeOffset Time => DateTimeOffset.UnixEpoch.AddTicks(TimeNs / 100);

    /// <summary>The checkpoint a marker stands for.</summary>
    public long? CheckpointId { get; init; }

    /// <summary>A checkpoint's message, or a network event's line.</summary>
    public string? Detail { get; init; }
}
