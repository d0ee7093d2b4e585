using System.Globalization;
using System.Text.Json.Nodes;

namespace AgentFs;

public sealed partial class AgentStore
{
    /// <summary>
    /// One Agent Trace record per checkpoint from one state to another, oldest first: record i is the change from
    /// checkpoint i-1 (the first: <paramref name="from"/>) to checkpoint i, so each turn's lines are attributed to
    /// that turn's conversation and model alone (its checkpoint's metadata, as <see cref="Trace(string?, string?, string, CancellationToken)"/> reads it; a
    /// harness hook writes them: <c>agentfs hook</c>). The checkpoints are those in the new state's history and not in
    /// the old one's, as <see cref="Trace(string?, string?, string, CancellationToken)"/> finds them. When <paramref name="to"/> is a branch head (the default)
    /// and it changed after its last checkpoint, a last record covers those changes (its <c>to</c> is the head).
    /// </summary>
    public IReadOnlyList<AgentTraceRecord> TracePerCheckpoint(string? from = null, string? to = null, string branch = "main", CancellationToken cancellationToken = default) =>
        TracePerCheckpoint(new DiffOptions(), from, to, branch, cancellationToken).Records;

    /// <summary><see cref="TracePerCheckpoint(string?, string?, string, CancellationToken)"/> with options, and the count of
    /// version-control changes of the whole range left out of the records.</summary>
    public (IReadOnlyList<AgentTraceRecord> Records, int VcsLeftOut) TracePerCheckpoint(DiffOptions options, string? from = null, string? to = null,
        string branch = "main", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ObjectDisposedException.ThrowIf(_disposed, this);
        from ??= "base";
        if (to == null) GetBranch(branch);
        List<long> checkpoints;
        bool toIsHead;
        int vcsLeftOut;
        using (var session = OpenDiff(from, to ?? branch, "trace", options.IncludeVcs))
        {
            vcsLeftOut = session.VcsLeftOut;
            checkpoints = new TraceBuilder(this, session, branch).CheckpointIdsBetween();
            toIsHead = session.To.State.Kind == StateKind.Branch;
        }
        var records = new List<AgentTraceRecord>(checkpoints.Count + 1);
        string previous = from;
        foreach (long id in checkpoints)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string at = id.ToString(CultureInfo.InvariantCulture);
            records.Add(Trace(options, previous, at, branch, cancellationToken).Record);
            previous = at;
        }
        if (toIsHead)
        {
            var head = Trace(options, previous, to ?? branch, branch, cancellationToken).Record;
            if (head.Files.Count > 0 || HasChanges(head)) records.Add(head);
        }
        return (records, vcsLeftOut);
    }

    private static bool HasChanges(AgentTraceRecord record) =>
        record.Metadata?[TraceBuilder.MetadataKey]?["changes"] is JsonArray { Count: > 0 };
}
