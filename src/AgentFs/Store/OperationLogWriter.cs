using AgentFs.Overlay;
using Microsoft.Data.Sqlite;

namespace AgentFs.Store;

/// <summary>
/// Writes a commit's operations into the ops table, one row each, inside the commit's transaction (on the
/// committer thread, off the hot path of the operations themselves). One prepared statement, reused.
/// </summary>
internal sealed class OperationLogWriter : IDisposable
{
    private readonly RawStatement _insert;

    public OperationLogWriter(SqliteConnection c) =>
        _insert = new RawStatement(c,
            "INSERT INTO ops(time_ns, branch, layer, op, path, to_path, ino, bytes, pid, uid, process) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");

    public void Write(List<OpLogEntry> ops, string branch, long layer)
    {
        foreach (var o in ops)
        {
            _insert.Bind(1, o.TimeNs).Bind(2, branch).Bind(3, layer).Bind(4, o.Op).BindBlobOrNull(5, o.Path).BindBlobOrNull(6, o.To)
                .Bind(7, (long)o.Ino).Bind(8, o.Bytes).Bind(9, (long)o.Caller.Pid).Bind(10, (long)o.Caller.Uid)
                .Bind(11, o.ProcessName).Execute();
        }
    }

    public void Dispose() => _insert.Dispose();
}
