using AgentFs.Versions;

namespace AgentFs;

public sealed partial class AgentStore
{
    /// <summary>
    /// The changes from one state to another (REFs: <c>base</c>, a checkpoint id, a branch name), sorted by
    /// path. The cost grows with the amount of change between the two, not with the size of the tree
    /// (see Versions/README.md). Refused (EIO, naming the files) when the base directory changed under
    /// files the changes depend on.
    /// </summary>
    public IReadOnlyList<FileChange> Diff(string fromRef, string toRef)
    {
        using var session = OpenDiff(fromRef, toRef, "diff");
        return session.Changes;
    }

    /// <summary>Like <see cref="Diff(string, string)"/>, with git's --stat figures (lines added and deleted) of each change
    /// (<see cref="GitFormat.Stat"/> prints them as git does).</summary>
    public IReadOnlyList<FileStat> DiffStat(string fromRef, string toRef)
    {
        using var session = OpenDiff(fromRef, toRef, "diff");
        return new GitPatchWriter(session, binaryPatches: false, contextLines: 3).Stats();
    }

    /// <summary>
    /// Writes the changes from one state to another as a git patch (<c>git apply</c> on a copy of the older
    /// state reproduces the newer one: content, x bits, symlinks, renames, binary files). Changes git cannot
    /// express (directories on their own, special files, permission bits other than x) are left out and
    /// counted in the summary. Cancellation stops between files (the output is then incomplete).
    /// </summary>
    public PatchSummary WritePatch(string fromRef, string toRef, Stream output, PatchOptions? options = null,
        IProgress<VersionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        options ??= new PatchOptions();
        if (options.ContextLines < 0) throw new AgentFsException(Errno.EINVAL, "a patch needs 0 or more lines of context");
        using var session = OpenDiff(fromRef, toRef, "write a patch", options.IncludeVcs);
        return new GitPatchWriter(session, options.BinaryPatches, options.ContextLines).Write(output, progress, cancellationToken)
            with { VcsLeftOut = session.VcsLeftOut };
    }

    /// <param name="includeVcs">Keep changes inside .git, .hg and .jj (left out by default: see Versions/VcsPaths.cs).</param>
    internal DiffSession OpenDiff(string fromRef, string toRef, string operation, bool includeVcs = false)
    {
        var from = ResolveState(fromRef);
        var to = ResolveState(toRef);
        var session = DiffSession.Open(this, from, to, operation);
        if (!includeVcs) session.LeaveOutVcs();
        return session;
    }
}
