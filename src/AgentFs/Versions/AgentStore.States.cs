using System.Globalization;
using AgentFs.Store;

namespace AgentFs;

public sealed partial class AgentStore
{
    /// <summary>
    /// Resolves a REF: <c>base</c> (the base directory alone), a checkpoint id (digits), or a branch name (its
    /// head). A branch open for writing in this process has its pending changes committed first, so the state
    /// includes everything written through it so far; a branch written by another process (a mount) shows what
    /// that process has committed (at most about a second behind).
    /// </summary>
    public StoreState ResolveState(string reference)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(reference);
        if (reference == "base")
            return new StoreState(reference, StateKind.Base, null, null, new LayerChain([StoreState.NoLayer]));
        if (reference.Length > 0 && reference.All(char.IsAsciiDigit))
        {
            if (!long.TryParse(reference, NumberStyles.None, CultureInfo.InvariantCulture, out long id))
                throw UnknownRef(reference);
            var cp = TryGetCheckpoint(id) ?? throw new AgentFsException(Errno.ENOENT,
                $"checkpoint {id} does not exist in store {Path}; 'agentfs log {Path}' lists them");
            return new StoreState(reference, StateKind.Checkpoint, cp.Branch, cp.Id, LoadChain(cp.Layer));
        }
        if (reference.Length == 0 || TryGetBranch(reference) == null) throw UnknownRef(reference);
        CommitPending(reference); // the writer's (this process or a mount) pending changes, so the state is complete
        var b = GetBranch(reference);
        return new StoreState(reference, StateKind.Branch, b.Name, null, LoadChain(b.TopLayer));
    }

    private AgentFsException UnknownRef(string reference) => new(Errno.ENOENT,
        $"'{reference}' is not base, a checkpoint or a branch of store {Path}; see 'agentfs branches {Path}' and 'agentfs log {Path}'");

    /// <summary>
    /// A read-only view of any state (base, a checkpoint, a branch head), for reading files of a version:
    /// e.g. the content of a path a <see cref="Diff(string, string)"/> named. Dispose it when done.
    /// </summary>
    public AgentFileSystem OpenState(string reference) => OpenStateFileSystem(ResolveState(reference));

    internal AgentFileSystem OpenStateFileSystem(StoreState state)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new AgentFileSystem(this, state.Branch ?? state.Ref, state.Chain, readOnly: true);
    }
}
