using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;

namespace AgentFs.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release -- oplog [ROWS...]</c>: the cost of 'agentfs ops' queries against the age of the store,
/// then the cost of the log on the write path.
/// For each size, fills a real store's ops table with ROWS operations the way a long agent session would (200
/// directories of 250 files, 20 busy processes and a few rare ones, 1 rename in 10,000, a checkpoint every 100,000
/// operations, 10 µs apart) by bulk insert: the five indexes of the table are dropped, the rows inserted in time order
/// (100,000 per transaction, synchronous=OFF), and the indexes made again from their own SQL, so the store's schema
/// is exactly what it was (10 million rows one by one through the indexes would take hours on a small machine). Then
/// times each query (median of 5 warm runs) through <see cref="AgentStore.ReadOperations"/>. The queries return about
/// the same rows at every size, so equal times mean the cost follows the rows returned, not the log's size; the
/// three --since rows return 10x more each, to show the cost that does grow.
/// The write path: <see cref="WritePathRounds"/> rounds, interleaved, of 10,000 files of 4 KiB created and written
/// through the library's inode API into a fresh store and committed durably, with the operation log on and off.
/// </summary>
internal static class OperationLogBenchmark
{
    public static int Run(string[] args)
    {
        if (args.Length > 1 && args[1] == "write")
        {
            // oplog write [ROUNDS]: only the write path (quick; for a loaded machine, more rounds).
            string scratch = Environment.GetEnvironmentVariable("AGENTFS_BENCH_DIR") is { Length: > 0 } w ? w : Path.GetTempPath();
            Console.WriteLine($"// load average at start: {LoadAverage()}");
            WritePath(scratch, args.Length > 2 ? int.Parse(args[2]) : WritePathRounds);
            Console.WriteLine($"// load average at the end: {LoadAverage()}");
            return 0;
        }
        var sizes = args.Skip(1).Select(long.Parse).DefaultIfEmpty(10_000_000).ToList();
        string dir = Environment.GetEnvironmentVariable("AGENTFS_BENCH_DIR") is { Length: > 0 } d ? d : Path.GetTempPath();
        Console.WriteLine($"// load average at start: {LoadAverage()}");
        Console.WriteLine("| operations in the log | fill (rows/s) | store size | query | rows | median |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (long rows in sizes)
        {
            string root = Directory.CreateDirectory(Path.Combine(dir, "agentfs-oplog-" + Path.GetRandomFileName())).FullName;
            try { Measure(root, rows); }
            finally { Directory.Delete(root, true); }
            Console.WriteLine($"// load average: {LoadAverage()}");
        }
        WritePath(dir, WritePathRounds);
        Console.WriteLine($"// load average at the end: {LoadAverage()}");
        return 0;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private const int WritePathRounds = 5;
    private const int WritePathFiles = 10_000;

    /// <summary>10,000 files of 4 KiB created, written and committed (fsync) in-process, with and without the
    /// operation log, <see cref="WritePathRounds"/> rounds interleaved; prints the medians and their ratio.</summary>
    private static void WritePath(string dir, int rounds)
    {
        var with = new List<double>();
        var without = new List<double>();
        var ratios = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            foreach (bool log in round % 2 == 0 ? new[] { true, false } : new[] { false, true })
                (log ? with : without).Add(CreateFiles(dir, log));
            ratios.Add(with[^1] / without[^1]);
        }
        ratios.Sort();
        with.Sort();
        without.Sort();
        double a = with[with.Count / 2], b = without[without.Count / 2];
        Console.WriteLine();
        Console.WriteLine($"| {WritePathFiles:N0} files of 4 KiB, create+write+commit (in-process) | median | per file | runs |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine($"| with the operation log | {a:F0} ms | {a * 1000 / WritePathFiles:F1} µs | {string.Join(", ", with.Select(t => t.ToString("F0")))} |");
        Console.WriteLine($"| without it | {b:F0} ms | {b * 1000 / WritePathFiles:F1} µs | {string.Join(", ", without.Select(t => t.ToString("F0")))} |");
        Console.WriteLine($"| with / without | {a / b:F2} (median of the {rounds} paired ratios: {ratios[ratios.Count / 2]:F2}) | | |");
    }

    private static double CreateFiles(string dir, bool log)
    {
        string root = Directory.CreateDirectory(Path.Combine(dir, "agentfs-oplog-write-" + Path.GetRandomFileName())).FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "base"));
            using var store = AgentStore.Create(Path.Combine(root, "store.agentfs"), Path.Combine(root, "base"));
            using var fs = store.OpenFileSystem("main");
            fs.OperationLogEnabled = log;
            var dirs = new ulong[100];
            for (int d = 0; d < dirs.Length; d++) dirs[d] = fs.Inodes.Mkdir(InodeNumbers.Root, Encoding.UTF8.GetBytes($"d{d:00}"), 0x1ED).Ino;
            fs.Flush(durable: true);
            var data = new byte[4096];
            new Random(7).NextBytes(data);
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < WritePathFiles; i++)
            {
                var a = fs.Inodes.Create(dirs[i % dirs.Length], Encoding.UTF8.GetBytes($"f{i}.c"), 0x1A4);
                fs.Inodes.Write(a.Ino, 0, data);
            }
            fs.Flush(durable: true);
            double ms = sw.Elapsed.TotalMilliseconds;
            long logged = store.ReadOperations(new OperationQuery { Branch = "main", Ops = ["create"] }).Count;
            if (logged != (log ? WritePathFiles : 0)) throw new InvalidOperationException($"expected {(log ? WritePathFiles : 0)} creates in the log, found {logged}");
            return ms;
        }
        finally { Directory.Delete(root, true); }
    }

    private static void Measure(string root, long rows)
    {
        Directory.CreateDirectory(Path.Combine(root, "base"));
        string storePath = Path.Combine(root, "store.agentfs");
        AgentStore.Create(storePath, Path.Combine(root, "base")).Dispose();
        long t0 = 1_700_000_000_000_000_000;
        var sw = Stopwatch.StartNew();
        long checkpoints = Fill(storePath, rows, t0, out double indexSeconds);
        double rate = rows / sw.Elapsed.TotalSeconds;
        Console.WriteLine($"// {rows:N0} rows: filled in {sw.Elapsed.TotalSeconds:F0} s, of which {indexSeconds:F0} s making the five indexes");
        long size = new FileInfo(storePath).Length;
        using var s = AgentStore.Open(storePath, new StoreOptions { ReadOnly = true });
        long lastTaskFrom = s.OperationTimeOf(checkpoints > 1 ? (checkpoints - 1).ToString() : "base", asEnd: false);
        long end = t0 + rows * 10_000;
        var queries = new (string Name, OperationQuery Query)[]
        {
            ("--from N-1 --to N (last task, 100k ops)", new() { Branch = "main", AfterNs = lastTaskFrom, UntilNs = s.OperationTimeOf(checkpoints.ToString(), asEnd: true) }),
            ("--since (last 1 ms: 100 ops)", new() { Branch = "main", AfterNs = end - 1_000_000 }),
            ("--since (last 10 ms: 1,000 ops)", new() { Branch = "main", AfterNs = end - 10_000_000 }),
            ("--since (last 100 ms: 10,000 ops)", new() { Branch = "main", AfterNs = end - 100_000_000 }),
            ("--from 1 --to 2 (the first task: old rows)", new() { Branch = "main", AfterNs = s.OperationTimeOf("1", asEnd: false), UntilNs = s.OperationTimeOf("2", asEnd: true) }),
            ("--process rare (1 in 100,000)", new() { Branch = "main", ProcessName = "rare" }),
            ("--pid 7777 (1 in 100,000)", new() { Branch = "main", Pid = 7777 }),
            ("--op rename (1 in 10,000)", new() { Branch = "main", Ops = ["rename"] }),
            ("--path d7/f13.c (one file)", new() { Branch = "main", PathGlob = "d7/f13.c" }),
            ("--path 'd7/f1*.c' (a glob)", new() { Branch = "main", PathGlob = "d7/f1*.c" }),
        };
        bool first = true;
        foreach (var (name, q) in queries)
        {
            int n = 0;
            var times = new List<double>();
            for (int i = 0; i < 6; i++)
            {
                var w = Stopwatch.StartNew();
                n = s.ReadOperations(q).Count;
                if (i > 0) times.Add(w.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            Console.WriteLine($"| {(first ? rows.ToString("N0") : "")} | {(first ? rate.ToString("N0") : "")} | {(first ? (size / 1e6).ToString("N0") + " MB" : "")} | {name} | {n:N0} | {times[times.Count / 2]:F2} ms |");
            first = false;
        }
    }

    /// <summary>
    /// Fills the ops table; returns the number of checkpoints taken (one per 100,000 operations). Each task's rows are
    /// made by SQLite itself (a recursive CTE: no per-row round trip through the driver), with the indexes dropped and
    /// made again at the end from their own SQL.
    /// </summary>
    private static long Fill(string storePath, long rows, long t0, out double indexSeconds)
    {
        using var c = new SqliteConnection($"Data Source={storePath};Pooling=False");
        c.Open();
        using (var p = c.CreateCommand()) { p.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY"; p.ExecuteNonQuery(); }
        var indexes = new List<(string Name, string Sql)>();
        using (var q = c.CreateCommand())
        {
            q.CommandText = "SELECT name, sql FROM sqlite_schema WHERE type='index' AND tbl_name='ops' AND sql IS NOT NULL ORDER BY name";
            using var rd = q.ExecuteReader();
            while (rd.Read()) indexes.Add((rd.GetString(0), rd.GetString(1)));
        }
        if (indexes.Count != 5) throw new InvalidOperationException($"expected the five indexes of the ops table, found {indexes.Count}");
        foreach (var (name, _) in indexes)
            using (var drop = c.CreateCommand()) { drop.CommandText = $"DROP INDEX {name}"; drop.ExecuteNonQuery(); }

        // One task of operations: 200 directories of 250 files; ops 1/2 write, 1/8 each create, setattr, unlink, mkdir;
        // 20 processes (the pid goes with the name); 1 rename in 10,000; the rare process once per 100,000.
        using var insert = c.CreateCommand();
        insert.CommandText = """
            WITH RECURSIVE n(r) AS (SELECT $start UNION ALL SELECT r + 1 FROM n WHERE r + 1 < $end),
            g AS MATERIALIZED (SELECT r, abs(random()) % 50000 AS f, abs(random()) % 20 AS p, abs(random()) % 8 AS o FROM n)
            INSERT INTO ops(time_ns, branch, layer, op, path, to_path, ino, bytes, pid, uid, process)
            SELECT $t0 + r * 10000, 'main', $layer,
                CASE WHEN r % 10000 = 5000 THEN 'rename'
                     ELSE CASE o WHEN 3 THEN 'create' WHEN 4 THEN 'setattr' WHEN 5 THEN 'unlink' WHEN 6 THEN 'mkdir' ELSE 'write' END END,
                CAST('d' || (f % 200) || '/f' || (f / 200) || '.c' AS BLOB),
                CASE WHEN r % 10000 = 5000 THEN CAST('d' || ((f + 1) % 50000 % 200) || '/f' || ((f + 1) % 50000 / 200) || '.c' AS BLOB) END,
                1000 + f, 4096,
                CASE WHEN r % 100000 = 50000 THEN 7777 ELSE 100 + p END, 1000,
                CASE WHEN r % 100000 = 50000 THEN 'rare'
                     ELSE CASE p WHEN 0 THEN 'node' WHEN 1 THEN 'git' WHEN 2 THEN 'cc1' WHEN 3 THEN 'sh' ELSE 'proc' || p END END
            FROM g
            """;
        var pStart = insert.Parameters.Add("$start", SqliteType.Integer);
        var pEnd = insert.Parameters.Add("$end", SqliteType.Integer);
        var pLayer = insert.Parameters.Add("$layer", SqliteType.Integer);
        insert.Parameters.AddWithValue("$t0", t0);
        using var checkpoint = c.CreateCommand();
        checkpoint.CommandText = "INSERT INTO checkpoints(layer, branch, message, meta, created_ns) VALUES($l,'main',$m,'{}',$t)";
        var cl = checkpoint.Parameters.Add("$l", SqliteType.Integer);
        var cm = checkpoint.Parameters.Add("$m", SqliteType.Text);
        var ct = checkpoint.Parameters.Add("$t", SqliteType.Integer);
        using var layer = c.CreateCommand();
        layer.CommandText = "INSERT INTO layers(id, parent, created_ns) VALUES($id, $p, $t)";
        var lid = layer.Parameters.Add("$id", SqliteType.Integer);
        var lp = layer.Parameters.Add("$p", SqliteType.Integer);
        var lt = layer.Parameters.Add("$t", SqliteType.Integer);
        long checkpoints = 0;
        for (long start = 0; start < rows; start += 100_000)
        {
            long end = Math.Min(rows, start + 100_000);
            using var tx = c.BeginTransaction();
            insert.Transaction = checkpoint.Transaction = layer.Transaction = tx;
            pStart.Value = start;
            pEnd.Value = end;
            pLayer.Value = checkpoints + 1;
            insert.ExecuteNonQuery();
            if (end - start == 100_000)
            {
                checkpoints++;
                long time = t0 + (end - 1) * 10_000 + 1;
                cl.Value = checkpoints;
                cm.Value = $"task {checkpoints}";
                ct.Value = time;
                checkpoint.ExecuteNonQuery();
                lid.Value = checkpoints + 1;
                lp.Value = checkpoints;
                lt.Value = time;
                layer.ExecuteNonQuery();
            }
            tx.Commit();
        }
        var indexTime = Stopwatch.StartNew();
        foreach (var (_, sql) in indexes)
            using (var create = c.CreateCommand()) { create.CommandText = sql; create.ExecuteNonQuery(); }
        indexSeconds = indexTime.Elapsed.TotalSeconds;
        using (var top = c.CreateCommand())
        {
            top.CommandText = $"UPDATE branches SET top_layer={checkpoints + 1} WHERE name='main'";
            top.ExecuteNonQuery();
        }
        return checkpoints;
    }
}
