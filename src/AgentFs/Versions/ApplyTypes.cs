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
/// What an apply did or would do: the changes (base to the applied state), the steps, the conflicts found
/// (an apply with conflicts writes nothing), and the changes it cannot make (special files: fifos,
/// sockets, devices), which are left out.
/// </summary>
public sealed class ApplyResult
{
    internal ApplyResult(string target, string reference, bool dryRun, IReadOnlyList<FileChange> changes, IReadOnlyList<ApplyAction> actions,
        IReadOnlyList<ApplyConflict> conflicts, IReadOnlyList<FileChange> skipped)
    {
        Target = target;
        Reference = reference;
        DryRun = dryRun;
        Changes = changes;
        Actions = actions;
        Conflicts = conflicts;
        Skipped = skipped;
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
}
