using System.Text;
using Microsoft.Data.Sqlite;

namespace AgentFs.Store;

/// <summary>
/// Reads the operation log: the ops table (schema 3 on) through the index that fits the query's most selective
/// filter, so the cost follows the rows returned; and, for a store that was written by schema 1 or 2, the
/// oplog batches of those versions (decoded and filtered here: that part of the log no longer grows).
/// Results are oldest first (by time, then position).
/// </summary>
internal static class OperationLogReader
{
    private const string Columns = "seq, time_ns, branch, layer, op, path, to_path, ino, bytes, pid, uid, process";

    public static List<OperationRecord> Read(SqliteConnection c, OperationQuery q)
    {
        var list = new List<OperationRecord>();
        if (q.AfterSeq == 0) ReadLegacy(c, q, list);
        if (HasOpsTable(c)) ReadOps(c, q, list);
        if (list.Count > 1 && q.AfterSeq == 0) list.Sort(static (a, b) => a.TimeNs != b.TimeNs ? a.TimeNs.CompareTo(b.TimeNs) : a.Seq.CompareTo(b.Seq));
        if (q.Last is int last && list.Count > last) list.RemoveRange(0, list.Count - last);
        return list;
    }

    private static bool HasOpsTable(SqliteConnection c) =>
        StoreDatabase.Scalar(c, "SELECT 1 FROM sqlite_schema WHERE type='table' AND name='ops'") != null;

    private static void ReadOps(SqliteConnection c, OperationQuery q, List<OperationRecord> list)
    {
        using var cmd = c.CreateCommand();
        var where = new List<string>();
        string index;
        string? glob = q.PathGlob is { } g ? g.TrimStart('/') : null;
        byte[] prefix = glob == null ? [] : Encoding.UTF8.GetBytes(LiteralPrefix(glob));
        if (q.Pid != null) index = "ops_by_pid";
        else if (q.ProcessName != null) index = "ops_by_process";
        else if (prefix.Length > 0) index = "ops_by_path";
        else if (q.Ops is { Count: > 0 }) index = "ops_by_op";
        else index = q.Branch != null ? "ops_by_time" : "";
        if (q.Branch != null)
        {
            where.Add("branch=$branch");
            cmd.Parameters.AddWithValue("$branch", q.Branch);
        }
        if (q.AfterNs is long after)
        {
            where.Add("time_ns>$after");
            cmd.Parameters.AddWithValue("$after", after);
        }
        if (q.UntilNs is long until)
        {
            where.Add("time_ns<=$until");
            cmd.Parameters.AddWithValue("$until", until);
        }
        if (q.Pid is int pid)
        {
            where.Add("pid=$pid");
            cmd.Parameters.AddWithValue("$pid", pid);
        }
        if (q.ProcessName != null)
        {
            where.Add("process=$process");
            cmd.Parameters.AddWithValue("$process", q.ProcessName);
        }
        if (q.Ops is { Count: > 0 } ops)
        {
            var names = ops.Select((o, i) => (o, p: "$op" + i)).ToList();
            where.Add($"op IN ({string.Join(',', names.Select(n => n.p))})");
            foreach (var (o, p) in names) cmd.Parameters.AddWithValue(p, o);
        }
        if (glob != null)
        {
            if (prefix.Length > 0)
            {
                where.Add("path>=$lo");
                cmd.Parameters.Add("$lo", SqliteType.Blob).Value = prefix;
                if (UpperBound(prefix) is { } hi)
                {
                    where.Add("path<$hi");
                    cmd.Parameters.Add("$hi", SqliteType.Blob).Value = hi;
                }
            }
            if (HasWildcard(glob)) where.Add("CAST(path AS TEXT) GLOB $glob");
            else where.Add("(path=$exact OR CAST(path AS TEXT) GLOB $under)");
            cmd.Parameters.AddWithValue("$glob", glob);
            cmd.Parameters.Add("$exact", SqliteType.Blob).Value = Encoding.UTF8.GetBytes(glob.TrimEnd('/'));
            cmd.Parameters.AddWithValue("$under", glob.TrimEnd('/') + "/*");
        }
        if (q.AfterSeq > 0)
        {
            where.Add("seq>$seq");
            cmd.Parameters.AddWithValue("$seq", q.AfterSeq);
        }
        string order = q.AfterSeq > 0 ? "seq" : "time_ns, seq";
        cmd.CommandText = $"SELECT {Columns} FROM ops" + (index.Length > 0 ? " INDEXED BY " + index : "")
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + (q.Last is int last ? $" ORDER BY time_ns DESC, seq DESC LIMIT {last}" : $" ORDER BY {order}");
        int start = list.Count;
        using (var rd = cmd.ExecuteReader())
        {
            while (rd.Read())
                list.Add(new OperationRecord(rd.GetInt64(0), rd.GetInt64(1), rd.GetString(2), rd.GetInt64(3), rd.GetString(4),
                    PathText(rd, 5), PathText(rd, 6), (ulong)rd.GetInt64(7), rd.GetInt64(8), (int)rd.GetInt64(9), (uint)rd.GetInt64(10), rd.GetString(11)));
        }
        if (q.Last != null) list.Reverse(start, list.Count - start);
    }

    private static string? PathText(SqliteDataReader rd, int column) =>
        rd.IsDBNull(column) ? null : Encoding.UTF8.GetString((byte[])rd.GetValue(column));

    /// <summary>The oplog batches of schema 1 and 2, which name an inode, its directory's inode and its name.</summary>
    private static void ReadLegacy(SqliteConnection c, OperationQuery q, List<OperationRecord> list)
    {
        if (StoreDatabase.Scalar(c, "SELECT 1 FROM oplog LIMIT 1") == null) return;
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT branch, layer, entries FROM oplog" + (q.Branch != null ? " WHERE branch=$b" : "") + " ORDER BY seq";
        if (q.Branch != null) cmd.Parameters.AddWithValue("$b", q.Branch);
        using var rd = cmd.ExecuteReader();
        while (rd.Read())
        {
            foreach (var r in OperationLogCodec.Decode((byte[])rd.GetValue(2), rd.GetString(0), rd.GetInt64(1)))
            {
                if (q.AfterNs is long a && r.TimeNs <= a || q.UntilNs is long u && r.TimeNs > u) continue;
                if (q.Pid is int pid && r.Pid != pid || q.ProcessName is { } p && r.ProcessName != p) continue;
                if (q.Ops is { Count: > 0 } ops && !ops.Contains(r.Op)) continue;
                if (q.PathGlob is { } g && !PathMatches(r.Path, g.TrimStart('/'))) continue;
                list.Add(r);
            }
        }
    }

    /// <summary>What the query's path filter means, for rows filtered here rather than by SQLite.</summary>
    internal static bool PathMatches(string? path, string glob)
    {
        if (path == null) return false;
        if (HasWildcard(glob)) return Glob.IsMatch(path, glob);
        string exact = glob.TrimEnd('/');
        return path == exact || path.StartsWith(exact + "/", StringComparison.Ordinal);
    }

    internal static bool HasWildcard(string glob) => glob.IndexOfAny(['*', '?', '[']) >= 0;

    private static string LiteralPrefix(string glob)
    {
        int i = glob.IndexOfAny(['*', '?', '[']);
        return i < 0 ? glob.TrimEnd('/') : glob[..i];
    }

    /// <summary>The smallest byte string greater than every string starting with prefix (null: none).</summary>
    private static byte[]? UpperBound(byte[] prefix)
    {
        for (int i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] == 0xFF) continue;
            var hi = prefix.AsSpan(0, i + 1).ToArray();
            hi[i]++;
            return hi;
        }
        return null;
    }
}
