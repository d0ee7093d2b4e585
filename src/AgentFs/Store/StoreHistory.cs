namespace AgentFs;

/// <summary>
/// The tree of states of a store (<see cref="AgentStore.ReadHistory"/>): every checkpoint with the checkpoint it was
/// taken over, and every branch with the checkpoint its current state grew from. The root of the tree is the base
/// (a parent of null). Checkpoints that no branch reaches any more (after a rollback) are in it too: they can still
/// be branched from. What <c>agentfs log --graph</c> and <c>agentfs report</c> draw.
/// </summary>
public sealed class StoreHistory
{
    private readonly Dictionary<long, long?> _checkpointParents;
    private readonly Dictionary<string, long?> _headParents;

    internal StoreHistory(IReadOnlyList<CheckpointInfo> checkpoints, Dictionary<long, long?> checkpointParents,
        IReadOnlyList<BranchInfo> branches, Dictionary<string, long?> headParents)
    {
        Checkpoints = checkpoints;
        Branches = branches;
        _checkpointParents = checkpointParents;
        _headParents = headParents;
    }

    /// <summary>Every checkpoint of the store, oldest (lowest id) first.</summary>
    public IReadOnlyList<CheckpointInfo> Checkpoints { get; }

    /// <summary>Every branch, sorted by name.</summary>
    public IReadOnlyList<BranchInfo> Branches { get; }

    /// <summary>The checkpoint the given one was taken over (the nearest one below it), or null when it grew from the base.</summary>
    public long? ParentOf(long checkpointId) => _checkpointParents.TryGetValue(checkpointId, out var p)
        ? p
        : throw new ArgumentException($"checkpoint {checkpointId} is not in this history", nameof(checkpointId));

    /// <summary>The checkpoint a branch's current state grew from (its last checkpoint, the one it was made or rolled
    /// back to), or null when it grew from the base.</summary>
    public long? HeadParentOf(string branch) => _headParents.TryGetValue(branch, out var p)
        ? p
        : throw new ArgumentException($"branch {branch} is not in this history", nameof(branch));
}
