using AgentFs.Store;

namespace AgentFs;

/// <summary>
/// One state of a store that a trace compares: the base directory, a checkpoint, or a branch head (REF
/// <c>base</c>, a checkpoint id, or a branch name), with a read-only view of its tree.
/// </summary>
internal sealed class TraceState : IDisposable
{
    /// <summary>A layer id no row has: a chain of only this layer sees nothing but the base directory.</summary>
    private const long NoLayer = -1;

    private TraceState(string reference, string kind, AgentFileSystem view, LayerChain chain, CheckpointInfo? checkpoint, BranchInfo? branch)
    {
        Ref = reference;
        Kind = kind;
        View = view;
        Chain = chain;
        Checkpoint = checkpoint;
        Branch = branch;
    }

    public string Ref { get; }
    /// <summary>base, checkpoint or branch.</summary>
    public string Kind { get; }
    public AgentFileSystem View { get; }
    public LayerChain Chain { get; }
    public CheckpointInfo? Checkpoint { get; }
    public BranchInfo? Branch { get; }

    public static TraceState Open(AgentStore store, string reference)
    {
        if (string.IsNullOrWhiteSpace(reference))
            throw new AgentFsException(Errno.EINVAL, $"an empty REF; pass base, a checkpoint id or a branch name of store {store.Path}");
        if (reference == "base")
        {
            var chain = new LayerChain([NoLayer]);
            return new TraceState("base", "base", new AgentFileSystem(store, "base", chain, readOnly: true), chain, null, null);
        }
        if (reference.All(char.IsAsciiDigit))
        {
            if (!long.TryParse(reference, out long id) || store.TryGetCheckpoint(id) is not { } cp)
                throw new AgentFsException(Errno.ENOENT, $"checkpoint {reference} does not exist in store {store.Path}; 'agentfs log {store.Path}' lists them");
            var chain = store.LoadChain(cp.Layer);
            return new TraceState(reference, "checkpoint", new AgentFileSystem(store, $"checkpoint {cp.Id}", chain, readOnly: true), chain, cp, null);
        }
        var b = store.TryGetBranch(reference)
            ?? throw new AgentFsException(Errno.ENOENT,
                $"'{reference}' is neither base, a checkpoint id nor a branch of store {store.Path}; see 'agentfs branches {store.Path}' and 'agentfs log {store.Path}'");
        var bchain = store.LoadChain(b.TopLayer);
        return new TraceState(reference, "branch", new AgentFileSystem(store, b.Name, bchain, readOnly: true), bchain, null, b);
    }

    public void Dispose() => View.Dispose();
}
