using AgentFs.Store;

namespace AgentFs;

public sealed partial class AgentStore
{
    /// <summary>
    /// The tree of checkpoints and branches (see <see cref="StoreHistory"/>), read in one snapshot. Reads every layer,
    /// checkpoint and branch row (a few per checkpoint), so it costs in proportion to the store's history, not its data.
    /// A layer whose parent is not below it (a cycle) or does not exist is refused as corrupt.
    /// </summary>
    public StoreHistory ReadHistory()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Read(c =>
        {
            var parents = new Dictionary<long, long?>();
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = "SELECT id, parent FROM layers";
                using var rd = cmd.ExecuteReader();
                while (rd.Read()) parents[rd.GetInt64(0)] = rd.IsDBNull(1) ? null : rd.GetInt64(1);
            }
            var checkpoints = new List<CheckpointInfo>();
            var checkpointOfLayer = new Dictionary<long, long>();
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = "SELECT id, branch, message, meta, created_ns, layer FROM checkpoints ORDER BY id";
                using var rd = cmd.ExecuteReader();
                while (rd.Read())
                {
                    var cp = ReadCheckpoint(rd);
                    checkpoints.Add(cp);
                    checkpointOfLayer[cp.Layer] = cp.Id;
                }
            }
            var branches = new List<BranchInfo>();
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = "SELECT name, top_layer, from_checkpoint, created_ns FROM branches ORDER BY name";
                using var rd = cmd.ExecuteReader();
                while (rd.Read()) branches.Add(ReadBranch(rd));
            }

            // The nearest checkpoint strictly below a layer, memoised per layer: each layer is walked once.
            var below = new Dictionary<long, long?>();
            long? CheckpointBelow(long layer)
            {
                var path = new List<long>();
                long? found = null;
                long current = layer;
                while (true)
                {
                    if (!parents.TryGetValue(current, out var parent))
                        throw StoreVerifier.Invalid(Path, "store", $"layer {current} does not exist but is used");
                    if (below.TryGetValue(current, out var known)) { found = known; break; }
                    path.Add(current);
                    if (parent is not long p) break;
                    if (p >= current) throw StoreVerifier.Invalid(Path, "store", $"layer {current} has parent {p}, which is not below it (a cycle)");
                    if (checkpointOfLayer.TryGetValue(p, out long id)) { found = id; break; }
                    current = p;
                }
                foreach (long l in path) below[l] = found;
                return found;
            }

            var checkpointParents = new Dictionary<long, long?>(checkpoints.Count);
            foreach (var cp in checkpoints) checkpointParents[cp.Id] = CheckpointBelow(cp.Layer);
            var headParents = new Dictionary<string, long?>(branches.Count, StringComparer.Ordinal);
            foreach (var b in branches)
                headParents[b.Name] = checkpointOfLayer.TryGetValue(b.TopLayer, out long sealedTop) ? sealedTop : CheckpointBelow(b.TopLayer);
            return new StoreHistory(checkpoints, checkpointParents, branches, headParents);
        });
    }
}
