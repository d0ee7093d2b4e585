namespace AgentFs;

/// <summary>
/// What to read of the operation log (<see cref="AgentStore.ReadOperations(OperationQuery)"/>). Every filter is
/// served by an index of the ops table, so a query costs in proportion to the rows it returns (and log n), not to
/// the age of the store: pid, process and op by (key, branch, time); a path glob by its literal prefix (the part
/// before the first '*', '?' or '['); otherwise (branch, time).
/// </summary>
public sealed class OperationQuery
{
    /// <summary>Only this branch (null: every branch).</summary>
    public string? Branch { get; init; }

    /// <summary>Only operations after this time (ns since the epoch, exclusive).</summary>
    public long? AfterNs { get; init; }

    /// <summary>Only operations up to this time (ns since the epoch, inclusive).</summary>
    public long? UntilNs { get; init; }

    /// <summary>
    /// Only paths matching this glob, relative to the branch root (a leading '/' is ignored): '*' matches any
    /// characters including '/', '?' one character, [abc] / [a-z] / [^a] a class, as git's pathspecs and SQLite's
    /// GLOB do. A glob without wildcards names a path and everything under it.
    /// </summary>
    public string? PathGlob { get; init; }

    /// <summary>Only operations of the process with this id.</summary>
    public int? Pid { get; init; }

    /// <summary>Only operations of processes with this name (as /proc/PID/comm gave it: at most 15 bytes).</summary>
    public string? ProcessName { get; init; }

    /// <summary>Only these operations (names as in <see cref="OperationRecord.Op"/>).</summary>
    public IReadOnlyCollection<string>? Ops { get; init; }

    /// <summary>Only rows of the log after this position (what --follow has already printed).</summary>
    public long AfterSeq { get; init; }

    /// <summary>Only the newest this many (still returned oldest first).</summary>
    public int? Last { get; init; }
}
