namespace AgentFs;

public sealed partial class AgentStore
{
    /// <summary>
    /// The Agent Trace record (agent-trace.dev, version 0.1.0) of the change from one state to another: for each text
    /// file, the line ranges of the new state that the change added, grouped by the checkpoint (conversation)
    /// that added them, with the conversation url, model and contributor taken from each checkpoint's metadata.
    /// A REF is <c>base</c>, a checkpoint id, or a branch name; <paramref name="from"/> defaults to base and
    /// <paramref name="to"/> to the head of <paramref name="branch"/>. The states and the changed paths are those of
    /// <see cref="Diff(string, string)"/> (the same <see cref="ResolveState"/>, so a branch open for writing in this process is
    /// traced with its pending changes, and the same cost: in proportion to the changes). See
    /// <see cref="TraceBuilder"/> for how lines and conversations are found, and the record's
    /// <c>metadata["dev.agentfs"]</c> for every changed path.
    /// </summary>
    public AgentTraceRecord Trace(string? from = null, string? to = null, string branch = "main", CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (to == null) GetBranch(branch);
        using var session = OpenDiff(from ?? "base", to ?? branch, "trace");
        return new TraceBuilder(this, session, branch).Build(cancellationToken);
    }
}
