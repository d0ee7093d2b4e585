using System.Text;
using Microsoft.Data.Sqlite;

namespace AgentFs.Store;

/// <summary>
/// Checks, on every open of a store (read-only or not) and on the backup that a restore reads, that the file is
/// a store as this agentfs makes it, before anything in it is written or followed:
/// - its schema (every row of sqlite_schema: type, name, table, SQL) is exactly what the migrations create for
///   its version, so no trigger or view of someone else's runs when we write or read it (sqlite_stat1/4, which
///   SQLite's own ANALYZE makes, are allowed: they hold statistics, no code);
/// - its layer graph is a forest whose parent ids are smaller than their children's (so no chain can loop,
///   and "ORDER BY layer DESC" is nearest first, which the readers rely on), with every parent, branch top and
///   checkpoint layer present, and no branch writing into a layer a checkpoint sealed.
/// Both are one small query each: the schema has some twenty rows; the graph check reads the layers table
/// (one row per checkpoint, branch and rollback) through its primary key.
/// </summary>
internal static class StoreVerifier
{
    private static readonly Dictionary<long, Dictionary<(string Type, string Name), (string Table, string? Sql)>> Expected = new();

    public static void Verify(SqliteConnection c, string path, string what = "store")
    {
        VerifySchema(c, path, what);
        VerifyLayers(c, path, what);
    }

    public static void VerifySchema(SqliteConnection c, string path, string what = "store")
    {
        long version = Convert.ToInt64(StoreDatabase.Scalar(c, "PRAGMA user_version"));
        if (version > StoreSchema.CurrentVersion)
            throw new AgentFsException(Errno.EINVAL,
                $"{what} {path} has schema version {version}, newer than this agentfs understands ({StoreSchema.CurrentVersion}); use a newer agentfs");
        if (version < 1) throw Invalid(path, what, "it has no schema version");
        var expected = ExpectedSchema(version);
        int seen = 0;
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT type, name, tbl_name, sql FROM sqlite_schema";
            using var rd = cmd.ExecuteReader();
            while (rd.Read())
            {
                string type = rd.GetString(0), name = rd.GetString(1), table = rd.GetString(2);
                string? sql = rd.IsDBNull(3) ? null : rd.GetString(3);
                if (type == "table" && name is "sqlite_stat1" or "sqlite_stat4" && table == name) continue;
                if (!expected.TryGetValue((type, name), out var mine))
                    throw Invalid(path, what, $"unexpected {Show(type)} {Show(name)}");
                if (mine.Table != table || mine.Sql != sql)
                    throw Invalid(path, what, $"its {Show(type)} {Show(name)} is not the one this agentfs creates");
                seen++;
            }
        }
        if (seen != expected.Count)
            throw Invalid(path, what, "tables or indexes of its schema are missing");
    }

    public static void VerifyLayers(SqliteConnection c, string path, string what = "store")
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText =
            "SELECT 'layer ' || id || ' has parent ' || parent || (CASE WHEN parent >= id THEN ', which is not below it (a cycle or a misordered chain)' ELSE ', which does not exist' END) " +
            "FROM layers l WHERE parent IS NOT NULL AND (parent >= id OR NOT EXISTS (SELECT 1 FROM layers p WHERE p.id = l.parent)) " +
            "UNION ALL SELECT 'branch ' || quote(name) || ' has top layer ' || top_layer || ', which does not exist' FROM branches b " +
            "WHERE NOT EXISTS (SELECT 1 FROM layers WHERE id = b.top_layer) " +
            "UNION ALL SELECT 'branch ' || quote(b.name) || ' writes into layer ' || b.top_layer || ', which checkpoint ' || k.id || ' sealed' " +
            "FROM branches b JOIN checkpoints k ON k.layer = b.top_layer " +
            "UNION ALL SELECT 'checkpoint ' || id || ' names layer ' || layer || ', which does not exist' FROM checkpoints k " +
            "WHERE NOT EXISTS (SELECT 1 FROM layers WHERE id = k.layer) LIMIT 1";
        if (cmd.ExecuteScalar() is string problem) throw Invalid(path, what, Show(problem));
    }

    /// <summary>Works out the current schema (and with it loads SQLite) ahead of the first open.</summary>
    public static void PrepareExpectedSchema() => ExpectedSchema(StoreSchema.CurrentVersion);

    private static Dictionary<(string Type, string Name), (string Table, string? Sql)> ExpectedSchema(long version)
    {
        lock (Expected)
        {
            if (Expected.TryGetValue(version, out var known)) return known;
            var map = new Dictionary<(string Type, string Name), (string Table, string? Sql)>();
            using var c = new SqliteConnection("Data Source=:memory:;Pooling=False");
            c.Open();
            for (long v = 0; v < version; v++) StoreDatabase.Exec(c, StoreSchema.Migrations[v]);
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = "SELECT type, name, tbl_name, sql FROM sqlite_schema";
                using var rd = cmd.ExecuteReader();
                while (rd.Read()) map[(rd.GetString(0), rd.GetString(1))] = (rd.GetString(2), rd.IsDBNull(3) ? null : rd.GetString(3));
            }
            Expected[version] = map;
            return map;
        }
    }

    public static AgentFsException Invalid(string path, string what, string why) => StoreCorruption.NotAStore(path, what, why);

    /// <summary>A name from the store for a one-line message: control characters as \xNN, at most 100 characters.</summary>
    public static string Show(string s)
    {
        var sb = new StringBuilder();
        foreach (char ch in s)
        {
            if (sb.Length >= 100) return sb.Append("...").ToString();
            if (char.IsControl(ch)) sb.Append($"\\x{(int)ch:x2}");
            else sb.Append(ch);
        }
        return sb.ToString();
    }
}
