using System.Text;

namespace AgentFs;

/// <summary>One step of an apply, in the order they run.</summary>
public enum ApplyActionKind { Delete, RemoveDirectory, CreateDirectory, WriteFile, WriteSymlink, SetMode }

/// <summary>A step of an apply on one path of the target.</summary>
public sealed record ApplyAction(ApplyActionKind Kind, byte[] RawPath, uint Mode)
{
    public string Path => Encoding.UTF8.GetString(RawPath);
}

/// <summary>A path where the target no longer matches what the change was made against, and how.</summary>
public sealed record ApplyConflict(byte[] RawPath, string Reason)
{
    public string Path => Encoding.UTF8.GetString(RawPath);
    public override string ToString() => $"{Path}: {Reason}";
}

/// <summary>
/// A path whose set-user-id, set-group-id or sticky bit the branch asks for and apply left out: apply never
/// creates those bits in the target (they would be the applying user's, often root's, privileges on the
/// agent's content) unless <see cref="ApplyOptions.KeepSpecialBits"/> is set. A bit the path already had in
/// the target is kept when only the mode changes.
/// </summary>
public sealed record ApplyDroppedBits(byte[] RawPath, uint RequestedMode, uint AppliedMode)
{
    public string Path => Encoding.UTF8.GetString(RawPath);
    public override string ToString() =>
        $"{Path} {Convert.ToString(RequestedMode, 8).PadLeft(4, '0')} -> {Convert.ToString(AppliedMode, 8).PadLeft(4, '0')}";
}

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
