using AgentFs.Versions;

namespace AgentFs;

public sealed partial class AgentStore
{
    /// <summary>
    /// <see cref="Diff(string, string)"/> with options; the list says how many changes inside version-control
    /// internals (<c>.git</c>, <c>.hg</c>, <c>.jj</c>) it left out (the plain overload leaves them out too).
    /// </summary>
    public ChangeList<FileChange> Diff(string fromRef, string toRef, DiffOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var session = OpenDiff(fromRef, toRef, "diff", options.IncludeVcs);
        return new ChangeList<FileChange>(session.Changes, session.VcsLeftOut);
    }

    /// <summary><see cref="DiffStat(string, string)"/> with options, and the count of version-control changes left out.</summary>
    public ChangeList<FileStat> DiffStat(string fromRef, string toRef, DiffOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var session = OpenDiff(fromRef, toRef, "diff", options.IncludeVcs);
        return new ChangeList<FileStat>(new GitPatchWriter(session, binaryPatches: false, contextLines: 3).Stats(), session.VcsLeftOut);
    }

    /// <summary><see cref="Trace(string?, string?, string, CancellationToken)"/> with options, and the count of
    /// version-control changes left out of the record.</summary>
    public (AgentTraceRecord Record, int VcsLeftOut) Trace(DiffOptions options, string? from = null, string? to = null, string branch = "main",
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (to == null) GetBranch(branch);
        using var session = OpenDiff(from ?? "base", to ?? branch, "trace", options.IncludeVcs);
        return (new TraceBuilder(this, session, branch).Build(cancellationToken), session.VcsLeftOut);
    }
}
