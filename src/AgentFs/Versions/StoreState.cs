using AgentFs.Store;

namespace AgentFs;

/// <summary>
/// A state of a store that diffs, patches and apply compare: REF <c>base</c> (the base directory as it is
/// now), a checkpoint id (digits), or a branch name (its head: what has been committed to it so far).
/// Made by <see cref="AgentStore.ResolveState"/>.
/// </summary>
public sealed class StoreState
{
    /// <summary>The layer id no row ever has: a chain of just this layer shows the base directory alone.</summary>
    internal const long NoLayer = 0;

    internal StoreState(string reference, StateKind kind, string? branch, long? checkpointId, LayerChain chain)
    {
        Ref = reference;
        Kind = kind;
        Branch = branch;
        CheckpointId = checkpointId;
        Chain = chain;
    }

    /// <summary>The REF as given: <c>base</c>, a checkpoint id, or a branch name.</summary>
    public string Ref { get; }
    public StateKind Kind { get; }
    /// <summary>The branch of a branch head; the branch a checkpoint was taken on; null for base.</summary>
    public string? Branch { get; }
    public long? CheckpointId { get; }

    /// <summary>The layers this state sees, top first (for base: the one layer that has no rows).</summary>
    internal LayerChain Chain { get; }

    /// <summary>"base", "checkpoint 4", "branch main": for messages.</summary>
    public override string ToString() => Kind switch
    {
        StateKind.Base => "base",
        StateKind.Checkpoint => $"checkpoint {CheckpointId}",
        _ => $"branch {Branch}",
    };
}
