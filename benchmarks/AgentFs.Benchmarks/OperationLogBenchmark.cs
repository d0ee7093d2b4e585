using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;

namespace AgentFs.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release -- oplog [ROWS...]</c>: the cost of 'agentfs ops' queries against the age of the store.
/// For each size, fills a real store's ops table with ROWS operations the way a long agent session would (200
/// directories of 250 files, 20 busy processes and a few rare ones, 1 rename in 10,000, a checkpoint every 100,000
/// operations, 10 µs apart), through the same INSERT as the store's writer (100,000 rows per transaction, synchronous=OFF: the
/// fill rate is the cost of the rows and their five indexes without the fsyncs), then times each query (median of 7, warm) through
/// <see cref="AgentStore.ReadOperations"/>. The queries return about the same rows at every size, so equal times
/// mean the cost follows the rows returned, not the log's size.
/// </summary>
internal static class OperationLogBenchmark
{
    public static int Run(string[] args)
    {
        var sizes = args.Skip(1).Select(long.Parse).DefaultIfEmpty(10_000_000).ToList();
        string dir = Environment.GetEnvironmentVariable("AGENTFS_BENCH_DIR") is { Length: > 0 } d ? d : Path.GetTempPath();
        Console.WriteLine("| operations in the log | insert (rows/s) | store size | query | rows | median |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (long rows in sizes)
        {
            string root = Directory.CreateDirectory(Path.Combine(dir, "agentfs-oplog-" + Path.GetRandomFileName())).FullName;
            try { Measure(root, rows); }
            finally { Directory.Delete(root, true); }
        }
        return 0;
    }

    private static void Measure(string root, long rows)
    {
        Directory.CreateDirectory(Path.Combine(root, "base"));
        string storePath = Path.Combine(root, "store.agentfs");
        AgentStore.Create(storePath, Path.Combine(root, "base")).Dispose();
        long t0 = 1_700_000_000_000_000_000;
        var sw = Stopwatch.StartNew();
        long checkpoints = Fill(storePath, rows, t0);
        double rate = rows / sw.Elapsed.TotalSeconds;
        long size = new FileInfo(storePath).Length;
        using var s = AgentStore.Open(storePath, new StoreOptions { ReadOnly = true });
        long lastTaskFrom = s.OperationTimeOf(checkpoints > 1 ? (checkpoints - 1).ToString() : "base", asEnd: false);
        long end = t0 + rows * 10_000;
        var queries = new (string Name, OperationQuery Query)[]
        {
            ("--from N-1 --to N (last task, 100k ops)", new() { Branch = "main", AfterNs = lastTaskFrom, UntilNs = s.OperationTimeOf(checkpoints.ToString(), asEnd: true) }),
            ("--since (last 10 ms: 1,000 ops)", new() { Branch = "main", AfterNs = end - 10_000_000 }),
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
            for (int i = 0; i < 8; i++)
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

    /// <summary>Fills the ops table; returns the number of checkpoints taken (one per 100,000 operations).</summary>
    private static long Fill(string storePath, long rows, long t0)
    {
        using var c = new SqliteConnection($"Data Source={storePath};Pooling=False");
        c.Open();
        using (var p = c.CreateCommand()) { p.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144"; p.ExecuteNonQuery(); }
        string[] ops = ["write", "write", "write", "create", "setattr", "unlink", "mkdir", "write"];
        string[] procs = Enumerable.Range(0, 20).Select(i => i switch { 0 => "node", 1 => "git", 2 => "cc1", 3 => "sh", _ => "proc" + i }).ToArray();
        var paths = new byte[50_000][];
        for (int i = 0; i < paths.Length; i++) paths[i] = Encoding.UTF8.GetBytes($"d{i % 200}/f{i / 200}.c");
        var rng = new Random(12);
        long checkpoints = 0;
        using var insert = c.CreateCommand();
        insert.CommandText = "INSERT INTO ops(time_ns, branch, layer, op, path, to_path, ino, bytes, pid, uid, process) VALUES($t,'main',$l,$o,$p,$to,$i,$b,$pid,1000,$proc)";
        var pt = insert.Parameters.Add("$t", SqliteType.Integer);
        var pl = insert.Parameters.Add("$l", SqliteType.Integer);
        var po = insert.Parameters.Add("$o", SqliteType.Text);
        var pp = insert.Parameters.Add("$p", SqliteType.Blob);
        var pto = insert.Parameters.Add("$to", SqliteType.Blob);
        var pi = insert.Parameters.Add("$i", SqliteType.Integer);
        var pb = insert.Parameters.Add("$b", SqliteType.Integer);
        var ppid = insert.Parameters.Add("$pid", SqliteType.Integer);
        var pproc = insert.Parameters.Add("$proc", SqliteType.Text);
        using var checkpoint = c.CreateCommand();
        checkpoint.CommandText = "INSERT INTO checkpoints(layer, branch, message, meta, created_ns) VALUES($l,'main',$m,'{}',$t)";
        var cl = checkpoint.Parameters.Add("$l", SqliteType.Integer);
        var cm = checkpoint.Parameters.Add("$m", SqliteType.Text);
        var ct = checkpoint.Parameters.Add("$t", SqliteType.Integer);
        using var layer = c.CreateCommand();
        layer.CommandText = "INSERT INTO layers(id, parent, created_ns) VALUES($id, $p, $t)";
        layer.Parameters.Add("$id", SqliteType.Integer);
        layer.Parameters.Add("$p", SqliteType.Integer);
        layer.Parameters.Add("$t", SqliteType.Integer);
        SqliteTransaction? tx = null;
        for (long r = 0; r < rows; r++)
        {
            if (r % 100_000 == 0)
            {
                tx?.Commit();
                tx = c.BeginTransaction();
                insert.Transaction = tx;
                checkpoint.Transaction = tx;
                layer.Transaction = tx;
            }
            long time = t0 + r * 10_000;
            int f = rng.Next(paths.Length);
            bool rename = r % 10_000 == 5_000;
            bool rare = r % 100_000 == 50_000;
            pt.Value = time;
            pl.Value = checkpoints + 1;
            po.Value = rename ? "rename" : ops[rng.Next(ops.Length)];
            pp.Value = paths[f];
            pto.Value = rename ? paths[(f + 1) % paths.Length] : DBNull.Value;
            pi.Value = 1000 + f;
            pb.Value = 4096;
            ppid.Value = rare ? 7777 : 100 + rng.Next(20);
            pproc.Value = rare ? "rare" : procs[rng.Next(procs.Length)];
            insert.ExecuteNonQuery();
            if ((r + 1) % 100_000 == 0)
            {
                checkpoints++;
                cl.Value = checkpoints;
                cm.Value = $"task {checkpoints}";
                ct.Value = time + 1;
                checkpoint.ExecuteNonQuery();
                layer.Parameters["$id"].Value = checkpoints + 1;
                layer.Parameters["$p"].Value = checkpoints;
                layer.Parameters["$t"].Value = time + 1;
                layer.ExecuteNonQuery();
            }
        }
        tx?.Commit();
        using (var top = c.CreateCommand())
        {
            top.CommandText = $"UPDATE branches SET top_layer={checkpoints + 1} WHERE name='main'";
            top.ExecuteNonQuery();
        }
        return checkpoints;
    }
}
