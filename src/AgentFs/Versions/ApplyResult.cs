namespace AgentFs;

/// <summary>
/// What an apply did or would do: the changes (base to the applied state), the steps, the conflicts found
/// (an apply with conflicts writes nothing), and the changes it cannot make (special files: fifos,
/// sockets, devices), which are left out.
/// </summary>
public sealed class ApplyResult
{
    internal ApplyResult(string target, string reference, bool dryRun, IReadOnlyList<FileChange> changes, IReadOnlyList<ApplyAction> actions,
        IReadOnlyList<ApplyConflict> conflicts, IReadOnlyList<FileChange> skipped, IReadOnlyList<ApplyDroppedBits> droppedBits)
    {
        Target = target;
        Reference = reference;
        DryRun = dryRun;
        Changes = changes;
        Actions = actions;
        Conflicts = conflicts;
        Skipped = skipped;
        DroppedBits = droppedBits;
    }

    public string Target { get; }
    /// <summary>The REF whose changes (from base) were applied: a branch name or a checkpoint id.</summary>
    public string Reference { get; }
    public bool DryRun { get; }
    /// <summary>True when the steps were carried out (not a dry run, no conflicts).</summary>
    public bool Applied { get; internal set; }
    public IReadOnlyList<FileChange> Changes { get; }
    public IReadOnlyList<ApplyAction> Actions { get; }
    public IReadOnlyList<ApplyConflict> Conflicts { get; }
    public IReadOnlyList<FileChange> Skipped { get; }
    /// <summary>Paths written (or to be written) without the set-id or sticky bits the branch has on them.</summary>
    public IReadOnlyList<ApplyDroppedBits> DroppedBits { get; }
    /// <summary>Changes inside version-control internals (<c>.git</c>, <c>.hg</c>, <c>.jj</c>) not copied as files.</summary>
    public int VcsLeftOut { get; internal set; }
    /// <summary>The branches of the agent's commits made (or, in a dry run, to be made) in the target's git repositories.</summary>
    public IReadOnlyList<GitBranchApplied> GitBranches { get; internal set; } = [];
}
