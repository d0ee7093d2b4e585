using System.Globalization;
using AgentFs.Store;

namespace AgentFs;

public sealed partial class AgentStore
{
    /// <summary>
    /// The operation log as the query selects it, oldest first. A branch written by another process shows what
    /// that process has committed (at most about a second behind). Its cost follows the rows returned (see
    /// <see cref="OperationQuery"/>).
    /// </summary>
    public IReadOnlyList<OperationRecord> ReadOperations(OperationQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Read(c => OperationLogReader.Read(c, query));
    }

    /// <summary>
    /// The checkpoints of a branch taken in a time range (ns, after exclusive, until inclusive), as markers for
    /// the operation log: Op "checkpoint", <see cref="OperationRecord.CheckpointId"/>, Detail = the message.
    /// </summary>
    public IReadOnlyList<OperationRecord> ReadCheckpointMarkers(string? branch, long? afterNs, long? untilNs, long afterId = 0) => Read(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, branch, layer, message, created_ns FROM checkpoints WHERE id>$id"
            + (branch != null ? " AND branch=$b" : "") + (afterNs != null ? " AND created_ns>$a" : "") + (untilNs != null ? " AND created_ns<=$u" : "")
            + " ORDER BY id";
        cmd.Parameters.AddWithValue("$id", afterId);
        if (branch != null) cmd.Parameters.AddWithValue("$b", branch);
        if (afterNs != null) cmd.Parameters.AddWithValue("$a", afterNs);
        if (untilNs != null) cmd.Parameters.AddWithValue("$u", untilNs);
        using var rd = cmd.ExecuteReader();
        var list = new List<OperationRecord>();
        while (rd.Read())
            list.Add(new OperationRecord(0, rd.GetInt64(4), rd.GetString(1), rd.GetInt64(2), "checkpoint", null, null, 0, 0, 0, 0, "")
            {
                CheckpointId = rd.GetInt64(0),
                Detail = rd.IsDBNull(3) ? null : rd.GetString(3),
            });
        return (IReadOnlyList<OperationRecord>)list;
    });

    /// <summary>
    /// The time a REF stands for in the operation log, in ns since the epoch: base is the beginning (0); a
    /// checkpoint, the moment it was taken; a branch, the moment it was created (so --from BRANCH is everything
    /// on it), or, as the end of a range (asEnd), now.
    /// </summary>
    public long OperationTimeOf(string reference, bool asEnd)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(reference);
        if (reference == "base") return 0;
        if (reference.Length > 0 && reference.All(char.IsAsciiDigit))
        {
            if (!long.TryParse(reference, NumberStyles.None, CultureInfo.InvariantCulture, out long id)) throw UnknownRef(reference);
            return Read(c => StoreDatabase.Scalar(c, "SELECT created_ns FROM checkpoints WHERE id=$i", null, ("$i", id))) as long?
                ?? throw new AgentFsException(Errno.ENOENT, $"checkpoint {id} does not exist in store {Path}; 'agentfs log {Path}' lists them");
        }
        if (asEnd)
        {
            if (reference.Length == 0 || TryGetBranch(reference) == null) throw UnknownRef(reference);
            return long.MaxValue;
        }
        return Read(c => StoreDatabase.Scalar(c, "SELECT created_ns FROM branches WHERE name=$b", null, ("$b", reference))) as long?
            ?? throw UnknownRef(reference);
    }

    /// <summary>The pid of the process writing a branch (a mount, or the sandbox of 'agentfs run'), or null when
    /// none is: what 'agentfs ops --follow' follows for.</summary>
    public int? LiveWriterOf(string branch) => LeaseHolder(branch) ?? Control.SandboxHolder.Find(StoreId, branch);
}
