using System.Text;
using Microsoft.Data.Sqlite;

namespace AgentFs.Tests.Operations;

/// <summary>The operation log: paths as they were when each operation ran, the filters, the indexes behind them,
/// and stores written before schema 3 (their oplog rows read, the store migrated on a writable open).</summary>
public class OperationLogTests
{
    private static List<(string Op, string? Path, string? To)> Log(AgentStore s, OperationQuery? q = null) =>
        s.ReadOperations(q ?? new OperationQuery { Branch = "main" }).Select(r => (r.Op, r.Path, r.To)).ToList();

    [Fact]
    public void Each_operation_names_the_path_it_acted_on_then_even_after_renames_and_deletes()
    {
        using var t = new TempStore();
        t.WriteBase("src/old.c", "int x;\n");
        using var s = t.Create();
        using (var fs = s.OpenFileSystem())
        {
            fs.CreateDirectory("work");
            fs.WriteAllText("work/a.txt", "one");
            fs.Move("work", "done");            // the directory: later operations in it name the new path
            fs.WriteAt("done/a.txt", 3, "two"u8);
            fs.Move("done/a.txt", "done/b.txt");
            fs.SetMode("src/old.c", 0x1ED);      // a base file, never renamed
            fs.Delete("done/b.txt");
            fs.Delete("done");
        }
        var log = Log(s);
        Assert.Equal(
        [
            ("mkdir", "work", null), ("create", "work/a.txt", null), ("write", "work/a.txt", null),
            ("rename", "work", "done"), ("write", "done/a.txt", null), ("rename", "done/a.txt", "done/b.txt"),
            ("setattr", "src/old.c", null), ("unlink", "done/b.txt", null), ("rmdir", "done", null),
        ], log);
        var write = s.ReadOperations(new OperationQuery { Branch = "main", Ops = ["write"] });
        Assert.Equal([3L, 3L], write.Select(w => w.Bytes));
        Assert.All(write, w => Assert.Equal(Environment.ProcessId, w.Pid));
    }

    /// <summary>Through the inode API, as FUSE calls it: after a rename the kernel keeps using the inode numbers it
    /// has and looks nothing up again, so the new names must come from the rename itself (and from an exchange).</summary>
    [Fact]
    public void Operations_by_inode_after_a_rename_or_exchange_name_the_new_paths()
    {
        using var t = new TempStore();
        using var s = t.Create();
        using (var fs = s.OpenFileSystem())
        {
            ulong dir = fs.Inodes.Mkdir(InodeNumbers.Root, "work"u8, 0x1ED).Ino;
            ulong file = fs.Inodes.Create(dir, "a.txt"u8, 0x1A4).Ino;
            ulong other = fs.Inodes.Create(InodeNumbers.Root, "b.txt"u8, 0x1A4).Ino;
            fs.Inodes.Rename(InodeNumbers.Root, "work"u8, InodeNumbers.Root, "done"u8);
            fs.Inodes.Write(file, 0, "x"u8);
            fs.Inodes.Rename(dir, "a.txt"u8, InodeNumbers.Root, "b.txt"u8, RenameFlags.Exchange);
            fs.Inodes.Write(file, 1, "y"u8);
            fs.Inodes.Write(other, 0, "z"u8);
        }
        Assert.Equal(
        [
            ("mkdir", "work", null), ("create", "work/a.txt", null), ("create", "b.txt", null), ("rename", "work", "done"),
            ("write", "done/a.txt", null), ("rename", "done/a.txt", "b.txt"), ("write", "b.txt", null), ("write", "done/a.txt", null),
        ], Log(s));
    }

    [Fact]
    public void Filters_select_by_path_glob_process_op_and_time()
    {
        using var t = new TempStore();
        using var s = t.Create();
        long middle;
        using (var fs = s.OpenFileSystem())
        {
            fs.CreateDirectory("src");
            fs.WriteAllText("src/a.cs", "a");
            fs.WriteAllText("src/a.txt", "a");
            fs.WriteAllText("srcx", "x");
            fs.Checkpoint("first");
            middle = s.OperationTimeOf("1", asEnd: true);
            fs.CreateDirectory("docs");
            fs.WriteAllText("docs/r.cs", "r");
        }
        Assert.Equal(["src", "src/a.cs", "src/a.txt"], Paths(s, new OperationQuery { Branch = "main", PathGlob = "src", Ops = ["mkdir", "create"] }));
        Assert.Equal(["src/a.cs", "docs/r.cs"], Paths(s, new OperationQuery { Branch = "main", PathGlob = "*.cs", Ops = ["create"] }));
        Assert.Equal(["src/a.cs"], Paths(s, new OperationQuery { Branch = "main", PathGlob = "/src/*.cs", Ops = ["create"] }));
        Assert.Equal(["src/a.cs", "src/a.txt"], Paths(s, new OperationQuery { Branch = "main", PathGlob = "src/a.[ct]*", Ops = ["create"] }));
        Assert.Empty(Paths(s, new OperationQuery { Branch = "main", PathGlob = "nothing/*" }));
        Assert.Equal(["docs", "docs/r.cs", "docs/r.cs"], Paths(s, new OperationQuery { Branch = "main", AfterNs = middle }));
        Assert.Equal(4, Paths(s, new OperationQuery { Branch = "main", UntilNs = middle, Ops = ["create", "mkdir"] }).Count);
        string me = File.ReadAllText($"/proc/{Environment.ProcessId}/comm").Trim();
        Assert.Equal(10, Paths(s, new OperationQuery { Branch = "main", ProcessName = me }).Count);
        Assert.Empty(Paths(s, new OperationQuery { Branch = "main", ProcessName = "no-such-process" }));
        Assert.Equal(10, Paths(s, new OperationQuery { Branch = "main", Pid = Environment.ProcessId }).Count);
        Assert.Empty(Paths(s, new OperationQuery { Branch = "other" }));
        Assert.Equal(["docs/r.cs"], Paths(s, new OperationQuery { Branch = "main", Last = 1 }));
    }

    private static List<string?> Paths(AgentStore s, OperationQuery q) => s.ReadOperations(q).Select(r => r.Path).ToList();

    /// <summary>Each filter reaches its rows through an index (so the cost follows the rows returned): the plan
    /// SQLite makes for the reader's query names it.</summary>
    [Theory]
    [InlineData("pid", "ops_by_pid")]
    [InlineData("process", "ops_by_process")]
    [InlineData("path", "ops_by_path")]
    [InlineData("op", "ops_by_op")]
    [InlineData("time", "ops_by_time")]
    public void Every_filter_is_served_by_an_index(string filter, string index)
    {
        using var t = new TempStore();
        t.Create().Dispose();
        using var c = new SqliteConnection($"Data Source={t.StorePath};Pooling=False;Mode=ReadOnly");
        c.Open();
        string where = filter switch
        {
            "pid" => "pid=1 AND branch='main' AND time_ns>0",
            "process" => "process='make' AND branch='main' AND time_ns>0",
            "path" => "path>=x'737263' AND path<x'737264' AND CAST(path AS TEXT) GLOB 'src*'",
            "op" => "op IN ('rename') AND branch='main' AND time_ns>0",
            _ => "branch='main' AND time_ns>0 AND time_ns<=10",
        };
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"EXPLAIN QUERY PLAN SELECT * FROM ops WHERE {where} ORDER BY time_ns, seq";
        var plan = new StringBuilder();
        using (var rd = cmd.ExecuteReader())
            while (rd.Read()) plan.Append(rd.GetString(3)).Append('\n');
        Assert.Contains($"USING INDEX {index}", plan.ToString());
    }

    /// <summary>A store of schema 2 (what agentfs wrote before paths were logged): its oplog rows are read, with the
    /// path where the row tells it (a name in the root); a read-only open leaves it at version 2; a writable open
    /// migrates it to 3 and new operations then carry their paths.</summary>
    [Fact]
    public void A_store_of_schema_2_opens_and_its_old_log_is_read()
    {
        using var t = new TempStore();
        t.Create().Dispose();
        long then = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100 - 1_000_000_000;
        using (var c = new SqliteConnection($"Data Source={t.StorePath};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DROP TABLE ops; PRAGMA user_version=2; INSERT INTO oplog(time_ns, branch, layer, count, entries) VALUES($t, 'main', 1, 2, $e)";
            cmd.Parameters.AddWithValue("$t", then);
            cmd.Parameters.AddWithValue("$e", LegacyBatch(then, [("create", 100, 1, "top.txt", 0), ("write", 100, 0, null, 12)]));
            cmd.ExecuteNonQuery();
        }
        using (var ro = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true }))
            Assert.Equal([("create", "top.txt", null), ("write", null, null)], Log(ro));
        Assert.Equal(2L, UserVersion(t.StorePath));
        using (var s = AgentStore.Open(t.StorePath))
        {
            using (var fs = s.OpenFileSystem()) fs.WriteAllText("new.txt", "n");
            Assert.Equal([("create", "top.txt", null), ("write", null, null), ("create", "new.txt", null), ("write", "new.txt", null)], Log(s));
            Assert.Equal(12, s.ReadOperations(new OperationQuery { Branch = "main", Ops = ["write"], UntilNs = then })[0].Bytes);
        }
        Assert.Equal(3L, UserVersion(t.StorePath));
    }

    private static long UserVersion(string path)
    {
        using var c = new SqliteConnection($"Data Source={path};Pooling=False;Mode=ReadOnly");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA user_version";
        return (long)cmd.ExecuteScalar()!;
    }

    /// <summary>An oplog batch as schema 1 and 2 encoded it (BinaryWriter: time, op, ino, parent, name length and
    /// bytes, bytes, pid, uid, process name).</summary>
    private static byte[] LegacyBatch(long timeNs, (string Op, ulong Ino, ulong Parent, string? Name, long Bytes)[] ops)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        foreach (var o in ops)
        {
            w.Write(timeNs);
            w.Write(o.Op);
            w.Write(o.Ino);
            w.Write(o.Parent);
            var name = o.Name == null ? null : Encoding.UTF8.GetBytes(o.Name);
            w.Write(name?.Length ?? -1);
            if (name != null) w.Write(name);
            w.Write(o.Bytes);
            w.Write(4242);
            w.Write(1000u);
            w.Write("oldtool");
        }
        w.Flush();
        return ms.ToArray();
    }
}
