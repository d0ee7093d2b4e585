using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using AgentFs.Native;
using AgentFs.Store;

namespace AgentFs;

public sealed partial class AgentStore
{
    /// <summary>
    /// Opens a branch as a file system. A writable view takes the branch's lease: one writer per branch
    /// across all processes (a second one is refused with the holder's pid). Read-only views see what
    /// writers have committed.
    /// </summary>
    public AgentFileSystem OpenFileSystem(string branch = "main", bool readOnly = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        readOnly |= Options.ReadOnly;
        var b = GetBranch(branch);
        if (!readOnly)
        {
            lock (_open)
            {
                if (_open.ContainsKey(branch))
                    throw new AgentFsException(Errno.EBUSY, $"branch {branch} of store {Path} is already open for writing in this process");
                AcquireLease(branch);
                var fs = new AgentFileSystem(this, branch, LoadChain(b.TopLayer), readOnly: false);
                _open[branch] = fs;
                return fs;
            }
        }
        return new AgentFileSystem(this, branch, LoadChain(b.TopLayer), readOnly: true);
    }

    internal void Closed(AgentFileSystem fs)
    {
        if (fs.IsReadOnly) return;
        lock (_open)
        {
            if (_open.TryGetValue(fs.Branch, out var cur) && cur == fs)
            {
                _open.Remove(fs.Branch);
                try { Write((c, tx) => StoreDatabase.NonQuery(c, "DELETE FROM leases WHERE branch=$b AND pid=$p", tx, ("$b", fs.Branch), ("$p", Environment.ProcessId))); }
                catch (AgentFsException) { }
            }
        }
    }

    private void AcquireLease(string branch)
    {
        Write((c, tx) =>
        {
            if (LiveLeaseHolder(c, tx, branch) is int pid && pid != Environment.ProcessId)
                throw new AgentFsException(Errno.EBUSY,
                    $"branch {branch} of store {Path} is in use by process {pid} ({ProcessNames.Get(pid)}); unmount or stop it first, or use another branch");
            StoreDatabase.NonQuery(c, "INSERT OR REPLACE INTO leases(branch, pid, host, started_ns, proc_start) VALUES($b,$p,$h,$t,$s)", tx,
                ("$b", branch), ("$p", Environment.ProcessId), ("$h", Environment.MachineName), ("$t", NowNs()), ("$s", ProcessStart(Environment.ProcessId)));
            return 0;
        });
    }

    /// <summary>The process holding the write lease of a branch, if a live one does.</summary>
    public int? LeaseHolder(string branch) => Read(c => LiveLeaseHolder(c, null, branch));

    /// <summary>The pid in the lease row of a branch, if a live process of this host holds it.</summary>
    private static int? LiveLeaseHolder(SqliteConnection c, SqliteTransaction? tx, string branch)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT pid, host, proc_start FROM leases WHERE branch=$b";
        cmd.Parameters.AddWithValue("$b", branch);
        using var rd = cmd.ExecuteReader();
        return rd.Read() ? LiveLeaseHolder(rd, 0) : null;
    }

    /// <summary>The pid of the lease in the current row of rd (columns pid, host, proc_start from column
    /// <paramref name="pidColumn"/> on), if a live process of this host holds it.</summary>
    internal static int? LiveLeaseHolder(SqliteDataReader rd, int pidColumn)
    {
        int pid = (int)rd.GetInt64(pidColumn);
        return rd.GetString(pidColumn + 1) == Environment.MachineName
               && ProcessAlive(pid, rd.IsDBNull(pidColumn + 2) ? null : rd.GetString(pidColumn + 2)) ? pid : null;
    }

    /// <summary>Whether the process that took a lease still runs: same pid, same start time, and not a zombie
    /// (a killed process whose parent has not reaped it yet holds nothing).</summary>
    private static bool ProcessAlive(int pid, string? start)
    {
        if (!(LibC.kill(pid, 0) == 0 || LibC.LastErrno == Errno.EPERM)) return false;
        string stat;
        try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (IOException) { return false; }
        char state = stat[stat.LastIndexOf(')') + 2];
        if (state is 'Z' or 'X') return false;
        return start == null || StartTime(stat) == start;
    }

    private static string? ProcessStart(int pid)
    {
        try { return StartTime(File.ReadAllText($"/proc/{pid}/stat")); }
        catch { return null; }
    }

    /// <summary>The starttime field of a /proc/PID/stat text, or null when it has none.</summary>
    private static string? StartTime(string stat)
    {
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Length > 19 ? fields[19] : null; // starttime
    }

    /// <summary>Refuses to change a branch that another live process holds open for writing.</summary>
    private void CheckNotLeasedElsewhere(string branch)
    {
        if (RemoteHolder(branch) is int pid)
            throw new AgentFsException(Errno.EBUSY,
                $"branch {branch} of store {Path} is open for writing by process {pid} ({ProcessNames.Get(pid)}); unmount it first");
    }

    internal LayerChain LoadChain(long top) => Read(c =>
    {
        var list = new List<long>();
        using var cmd = c.CreateCommand();
        // Each step must go to a smaller id (checked on open too), so the walk ends even if a cycle was made
        // in the file since: it stops at a parent that is not below its child, which is then reported.
        cmd.CommandText = "WITH RECURSIVE ch(id, parent) AS (SELECT id, parent FROM layers WHERE id=$t UNION ALL " +
                          "SELECT l.id, l.parent FROM layers l JOIN ch ON l.id = ch.parent AND ch.parent < ch.id) SELECT id, parent FROM ch";
        cmd.Parameters.AddWithValue("$t", top);
        using var rd = cmd.ExecuteReader();
        long? lastParent = null;
        while (rd.Read())
        {
            list.Add(rd.GetInt64(0));
            lastParent = rd.IsDBNull(1) ? null : rd.GetInt64(1);
        }
        if (list.Count == 0) throw Corrupt($"it has no layer {top}");
        if (lastParent is long p)
            throw StoreVerifier.Invalid(Path, "store", $"layer {list[^1]} has parent {p}, which {(p >= list[^1] ? "is not below it (a cycle)" : "does not exist")}");
        return new LayerChain(list.ToArray());
    });

    // ---- branches ---------------------------------------------------------------------------------

    public IReadOnlyList<BranchInfo> ListBranches() => Read(c =>
    {
        var list = new List<BranchInfo>();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT name, top_layer, from_checkpoint, created_ns FROM branches ORDER BY name";
        using var rd = cmd.ExecuteReader();
        while (rd.Read()) list.Add(ReadBranch(rd));
        return (IReadOnlyList<BranchInfo>)list;
    });

    public BranchInfo GetBranch(string name) => TryGetBranch(name)
        ?? throw new AgentFsException(Errno.ENOENT, $"branch {name} does not exist in store {Path}; 'agentfs branches {Path}' lists them");

    public BranchInfo? TryGetBranch(string name) => Read(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT name, top_layer, from_checkpoint, created_ns FROM branches WHERE name=$n";
        cmd.Parameters.AddWithValue("$n", name);
        using var rd = cmd.ExecuteReader();
        return rd.Read() ? ReadBranch(rd) : null;
    });

    private static BranchInfo ReadBranch(SqliteDataReader rd) => new(rd.GetString(0), rd.GetInt64(1),
        rd.IsDBNull(2) ? null : rd.GetInt64(2), FromNs(rd.GetInt64(3)));

    private static DateTimeOffset FromNs(long ns) => DateTimeOffset.FromUnixTimeMilliseconds(ns / 1_000_000);

    // \z, not $: '$' also matches before a final newline. Each '/'-separated part starts like the name does.
    private static readonly Regex BranchName = new(@"^(?=.{1,100}\z)[A-Za-z0-9_][A-Za-z0-9._-]*(?:/[A-Za-z0-9_][A-Za-z0-9._-]*)*\z", RegexOptions.Compiled);

    /// <summary>Creates a branch from a checkpoint id or from another branch's current state (O(1)).</summary>
    public BranchInfo CreateBranch(string name, string from)
    {
        if (!BranchName.IsMatch(name) || name == "base" || name.All(char.IsAsciiDigit) || name.Contains("..") || name.EndsWith('/'))
            throw new AgentFsException(Errno.EINVAL,
                $"'{name}' is not a valid branch name: use letters, digits, '.', '_', '-', '/', not all digits, not 'base'");
        if (TryGetBranch(name) != null)
            throw new AgentFsException(Errno.EEXIST, $"branch {name} already exists in store {Path}; pick another name");
        long fromLayer;
        long checkpointId;
        if (long.TryParse(from, out long id))
        {
            var cp = GetCheckpoint(id);
            fromLayer = cp.Layer;
            checkpointId = cp.Id;
        }
        else if (TryGetBranch(from) != null)
        {
            // Branching from a branch head seals its current state first, so both can go on independently.
            var cp = Checkpoint(from, $"branch point of {name}");
            fromLayer = cp.Layer;
            checkpointId = cp.Id;
        }
        else
            throw new AgentFsException(Errno.ENOENT, $"'{from}' is neither a branch nor a checkpoint of store {Path}; see 'agentfs branches' and 'agentfs log'");
        Write((c, tx) =>
        {
            long layer = NewLayer(c, tx, fromLayer);
            StoreDatabase.NonQuery(c, "INSERT INTO branches(name, top_layer, created_ns, from_checkpoint) VALUES($n,$l,$t,$f)", tx,
                ("$n", name), ("$l", layer), ("$t", NowNs()), ("$f", checkpointId));
            return 0;
        }, durable: true);
        return GetBranch(name);
    }

    private static long NewLayer(SqliteConnection c, SqliteTransaction tx, long? parent)
    {
        StoreDatabase.NonQuery(c, "INSERT INTO layers(parent, created_ns) VALUES($p, $t)", tx, ("$p", parent), ("$t", NowNs()));
        return (long)StoreDatabase.Scalar(c, "SELECT last_insert_rowid()", tx)!;
    }

    // ---- checkpoints ------------------------------------------------------------------------------

    /// <summary>Seals a branch's current state as a checkpoint. Through the open writable view when there is one.</summary>
    public CheckpointInfo Checkpoint(string branch = "main", string? message = null, IReadOnlyDictionary<string, string>? meta = null) =>
        AtWriter(branch,
            here: open => open.Checkpoint(message, meta),
            remote: holder => GetCheckpoint(holder.Checkpoint(message, meta)),
            neither: () => CheckpointCore(branch, GetBranch(branch).TopLayer, message, meta).Info,
            checkFirst: () => GetBranch(branch));

    internal (CheckpointInfo Info, long NewTop) CheckpointCore(string branch, long top, string? message, IReadOnlyDictionary<string, string>? meta)
    {
        long now = NowNs();
        string metaJson = JsonSerializer.Serialize(meta ?? new Dictionary<string, string>(), CheckpointMetaJson.Default.IReadOnlyDictionaryStringString);
        var (id, newTop) = Write((c, tx) =>
        {
            long cur = (long)(StoreDatabase.Scalar(c, "SELECT top_layer FROM branches WHERE name=$b", tx, ("$b", branch))
                ?? throw new AgentFsException(Errno.ENOENT, $"branch {branch} does not exist in store {Path}"));
            if (cur != top) throw new AgentFsException(Errno.ESTALE, $"branch {branch} of store {Path} changed underneath; reopen it");
            StoreDatabase.NonQuery(c, "INSERT INTO checkpoints(layer, branch, message, meta, created_ns) VALUES($l,$b,$m,$j,$t)", tx,
                ("$l", top), ("$b", branch), ("$m", message), ("$j", metaJson), ("$t", now));
            long cid = (long)StoreDatabase.Scalar(c, "SELECT last_insert_rowid()", tx)!;
            long nt = NewLayer(c, tx, top);
            StoreDatabase.NonQuery(c, "UPDATE branches SET top_layer=$l WHERE name=$b", tx, ("$l", nt), ("$b", branch));
            return (cid, nt);
        }, durable: true);
        return (new CheckpointInfo(id, branch, message, meta ?? new Dictionary<string, string>(), FromNs(now), top), newTop);
    }

    public CheckpointInfo GetCheckpoint(long id) => TryGetCheckpoint(id)
        ?? throw new AgentFsException(Errno.ENOENT, $"checkpoint {id} does not exist in store {Path}; 'agentfs log {Path}' lists them");

    public CheckpointInfo? TryGetCheckpoint(long id) => Read(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, branch, message, meta, created_ns, layer FROM checkpoints WHERE id=$i";
        cmd.Parameters.AddWithValue("$i", id);
        using var rd = cmd.ExecuteReader();
        return rd.Read() ? ReadCheckpoint(rd) : null;
    });

    private static CheckpointInfo ReadCheckpoint(SqliteDataReader rd) => new(rd.GetInt64(0), rd.GetString(1),
        rd.IsDBNull(2) ? null : rd.GetString(2),
        rd.IsDBNull(3) ? new Dictionary<string, string>() : JsonSerializer.Deserialize(rd.GetString(3), CheckpointMetaJson.Default.DictionaryStringString) ?? new(),
        FromNs(rd.GetInt64(4)), rd.GetInt64(5));

    /// <summary>The checkpoints in a branch's history (its own and those it was branched from), newest first.</summary>
    public IReadOnlyList<CheckpointInfo> ListCheckpoints(string branch = "main")
    {
        var chain = LoadChain(GetBranch(branch).TopLayer);
        return Read(c =>
        {
            var list = new List<CheckpointInfo>();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT id, branch, message, meta, created_ns, layer FROM checkpoints ORDER BY id DESC";
            using var rd = cmd.ExecuteReader();
            while (rd.Read())
            {
                var cp = ReadCheckpoint(rd);
                if (chain.DepthOf(cp.Layer) >= 0) list.Add(cp);
            }
            list.Sort((a, b) => chain.DepthOf(a.Layer).CompareTo(chain.DepthOf(b.Layer)));
            return (IReadOnlyList<CheckpointInfo>)list;
        });
    }

    /// <summary>Makes a branch show a checkpoint of its history again (O(1)); changes since are dropped from the branch.</summary>
    public void Rollback(string branch, long checkpointId) =>
        AtWriter(branch,
            here: open => { open.Rollback(checkpointId); return 0; },
            remote: holder => { GetCheckpoint(checkpointId); holder.Rollback(checkpointId); return 0; },
            neither: () => RollbackCore(branch, checkpointId),
            checkFirst: () => GetBranch(branch));

    /// <summary>
    /// Makes everything written to a branch so far visible in the store file (to this and other processes):
    /// commits the in-process view's pending changes, or asks the process holding the branch to.
    /// </summary>
    public void CommitPending(string branch) =>
        AtWriter(branch,
            here: open => { open.Flush(durable: false); return 0; },
            remote: holder => { holder.Commit(); return 0; },
            neither: () => 0); // nothing is pending anywhere: the store file has it all

    /// <summary>
    /// Does a change of a branch where its writer is, the one routing of every such change: through the view open
    /// for writing in this process (<paramref name="here"/>), as a control request to another process that holds
    /// the branch (<paramref name="remote"/>: a mount, or the launcher of the sandbox this process runs in), or on
    /// the store file directly when nobody holds it (<paramref name="neither"/>). <paramref name="checkFirst"/> runs
    /// before a holder elsewhere is looked for (e.g. that the branch exists, for its error message).
    /// </summary>
    private T AtWriter<T>(string branch, Func<AgentFileSystem, T> here, Func<Control.ControlClient, T> remote, Func<T> neither,
        Action? checkFirst = null)
    {
        AgentFileSystem? open;
        lock (_open) _open.TryGetValue(branch, out open);
        if (open != null) return here(open);
        checkFirst?.Invoke();
        if (RemoteHolder(branch) is int pid) return remote(new Control.ControlClient(Path, StoreId, branch, pid));
        return neither();
    }

    /// <summary>The pid of another live process holding the branch for writing, if any.</summary>
    private int? RemoteHolder(string branch)
    {
        lock (_open)
            if (_open.ContainsKey(branch)) return null;
        return LeaseHolder(branch) is int pid && pid != Environment.ProcessId ? pid : Control.SandboxHolder.Find(StoreId, branch);
    }

    internal long RollbackCore(string branch, long checkpointId)
    {
        var cp = GetCheckpoint(checkpointId);
        var chain = LoadChain(GetBranch(branch).TopLayer);
        if (chain.DepthOf(cp.Layer) < 0)
            throw new AgentFsException(Errno.EINVAL,
                $"checkpoint {checkpointId} is not in the history of branch {branch}; start a branch from it with 'agentfs branch {Path} NEW --from {checkpointId}'");
        return Write((c, tx) =>
        {
            long nt = NewLayer(c, tx, cp.Layer);
            StoreDatabase.NonQuery(c, "UPDATE branches SET top_layer=$l WHERE name=$b", tx, ("$l", nt), ("$b", branch));
            return nt;
        }, durable: true);
    }

    /// <summary>The operation log (of one branch or all), oldest first: at most limit entries, the newest ones.</summary>
    public IReadOnlyList<OperationRecord> ReadOperationLog(string? branch = null, int limit = 1000) =>
        ReadOperations(new OperationQuery { Branch = branch, Last = limit });
}
