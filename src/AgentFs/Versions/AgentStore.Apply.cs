using AgentFs.Versions;

namespace AgentFs;

public sealed partial class AgentStore
{
    /// <summary>
    /// Writes the changes of a branch (or checkpoint) since the base into a target directory (usually the
    /// real project, or the base directory itself once the work is accepted). First every path to change is
    /// checked against the target: it must still be what the change was made against (the base as the store
    /// saw it: type, permission bits, content, link target; nothing where something is added; no unknown
    /// entries in a directory that is deleted). Any conflict refuses the whole apply, listing every conflict,
    /// before anything is written. Then: new content is staged in a directory inside the target and fsynced,
    /// deletions run, directories are created, and each file or symlink is renamed into place (atomic per
    /// path); modes last. No path is ever resolved through a symlink of the target.
    /// Special files (fifos, sockets, devices) are left out and listed in <see cref="ApplyResult.Skipped"/>;
    /// set-user-id, set-group-id and sticky bits are never created unless <see cref="ApplyOptions.KeepSpecialBits"/>
    /// says so, and those left out are listed in <see cref="ApplyResult.DroppedBits"/>. Owners are never
    /// carried: what apply creates belongs to the user running it.
    /// </summary>
    /// <param name="reference">A branch name (its head) or a checkpoint id.</param>
    /// <param name="dryRun">Check and plan only; write nothing.</param>
    /// <param name="cancellationToken">Honoured until the first change lands in the target (while checking and
    /// staging: then nothing has changed); from there on the apply runs to its end.</param>
    public ApplyResult Apply(string reference, string targetDirectory, bool dryRun = false, IProgress<VersionProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        Apply(reference, targetDirectory, new ApplyOptions { DryRun = dryRun }, progress, cancellationToken);

    /// <inheritdoc cref="Apply(string, string, bool, IProgress{VersionProgress}?, CancellationToken)"/>
    public ApplyResult Apply(string reference, string targetDirectory, ApplyOptions options, IProgress<VersionProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        bool dryRun = options.DryRun;
        using var session = OpenApply(reference, includeVcs: true);
        // The repositories are found among all changes; then the files apply without VCS internals (GitApplier.cs).
        var repositories = options.IncludeVcs ? [] : GitRepositoryPaths(session, null, all: true);
        if (!options.IncludeVcs) session.LeaveOutVcs();
        using var target = new TargetDirectory(targetDirectory);
        var applier = new Applier(this, session, target, reference, options.KeepSpecialBits);
        var result = applier.Plan(dryRun, progress, cancellationToken);
        result.VcsLeftOut = session.VcsLeftOut;
        if (result.Conflicts.Count > 0) throw ConflictError(result, target.Root, session.To.State);
        using var git = repositories.Count == 0 ? null : GitApplier.Prepare(this, session, repositories, session.Changes, target.Root, options);
        if (git != null) result.GitBranches = git.Branches;
        if (!dryRun)
        {
            applier.Execute(progress, cancellationToken);
            git?.Execute();
            result.Applied = true;
        }
        return result;
    }

    /// <summary>The checks and steps of <see cref="Apply(string, string, ApplyOptions, IProgress{VersionProgress}?, CancellationToken)"/> without writing anything; conflicts are returned, not thrown.</summary>
    public ApplyResult PlanApply(string reference, string targetDirectory, ApplyOptions? options = null)
    {
        using var session = OpenApply(reference, options?.IncludeVcs ?? false);
        using var target = new TargetDirectory(targetDirectory);
        return new Applier(this, session, target, reference, options?.KeepSpecialBits ?? false).Plan(dryRun: true);
    }

    private DiffSession OpenApply(string reference, bool includeVcs)
    {
        if (reference == "base")
            throw new AgentFsException(Errno.EINVAL, "apply writes the changes of a branch or checkpoint since the base; 'base' has none");
        return OpenDiff("base", reference, "apply", includeVcs);
    }

    private static AgentFsException ConflictError(ApplyResult r, string target, StoreState state)
    {
        const int Max = 100;
        string list = string.Join("; ", r.Conflicts.Take(Max)) + (r.Conflicts.Count > Max ? $"; and {r.Conflicts.Count - Max} more" : "");
        string what = r.Conflicts.Count == 1 ? "1 conflict" : $"{r.Conflicts.Count} conflicts";
        return new AgentFsException(Errno.ESTALE,
            $"target {target} no longer matches what {state} was made against ({what}), nothing was written: {list}");
    }
}
