using System.Diagnostics;
using AgentFs.Fuse;
using AgentFs.Tests.Property;
using Microsoft.Data.Sqlite;

namespace AgentFs.EndToEnd.Tests.Property;

/// <summary>
/// A real FUSE mount of the store's main branch as the system under test: every file operation is the very
/// libc call the model gets (<see cref="LibcSteps"/>), made on the mount point instead of the model directory,
/// so the kernel's semantics (final symbolic links followed by chmod/truncate/open, writeback of cached pages,
/// ownership of mtime and size) apply to both sides alike. Checkpoint, rollback and flush go through the
/// mount's own <see cref="AgentFileSystem"/> (the mount holds the branch); Remount disposes the AgentMount and
/// mounts the store again.
/// </summary>
public sealed record MountSettings(int ChunkSize, bool WritebackCache = true, bool Passthrough = false, TimeSpan? CommitInterval = null)
    : DifferentialSettings(ChunkSize)
{
    public override string TargetName => "mount";
    public override string TestProject => "tests/AgentFs.EndToEnd.Tests";

    public override string ToCode() =>
        $"new MountSettings({ChunkSize}" + (WritebackCache ? "" : ", WritebackCache: false") + (Passthrough ? ", Passthrough: true" : "")
        + (CommitInterval is { } ci ? $", CommitInterval: TimeSpan.FromMilliseconds({ci.TotalMilliseconds})" : "") + ")";

    public override IDifferentialTarget CreateTarget() => new MountTarget(this);

    public AgentMountOptions Options(bool readOnly = false) => new()
    {
        WritebackCache = WritebackCache, Passthrough = Passthrough, ReadOnly = readOnly,
        CommitInterval = CommitInterval ?? new StoreOptions().CommitInterval,
    };

    /// <summary>The library test's operations and weights, with Remount in place of Reopen.</summary>
    public override (int Weight, OpKind Kind)[] Weights =>
        Operations.DefaultWeights.Select(w => w.Kind == OpKind.Reopen ? (w.Weight, OpKind.Remount) : w).ToArray();

    public override string Describe(Step s) => s.Kind switch
    {
        OpKind.Checkpoint => "mount.FileSystem.Checkpoint()  // model: cp -a copy",
        OpKind.Rollback => $"mount.FileSystem.Rollback(checkpoint #{s.A + 1})  // model: back to its copy",
        OpKind.Flush => "mount.FileSystem.Flush()  // commit the memtable while mounted",
        OpKind.Reopen or OpKind.Remount => "Remount()  // dispose the AgentMount (durable flush, unmount), AgentMount.Mount again",
        _ => LibcSteps.Describe(s),
    };

    public override string ToString() =>
        $"through a FUSE mount, chunk size {ChunkSize}, " + (Passthrough ? "passthrough" : WritebackCache ? "writeback cache" : "no writeback cache")
        + (CommitInterval is { } ci ? $", commit interval {ci.TotalMilliseconds} ms" : "");
}

public sealed class MountTarget(MountSettings settings) : IDifferentialTarget
{
    private string _storePath = "", _mountPoint = "";
    private AgentMount? _mount;

    private AgentMount Mount => _mount ?? throw new InvalidOperationException("not mounted");

    public void Start(string baseDir, string storePath, string workDir)
    {
        _storePath = storePath;
        _mountPoint = workDir + "/mnt";
        Directory.CreateDirectory(_mountPoint);
        AgentStore.Create(storePath, baseDir, new StoreOptions { ChunkSize = settings.ChunkSize }).Dispose();
        DoMount();
    }

    private void DoMount(bool readOnly = false) => _mount = AgentMount.Mount(_storePath, _mountPoint, settings.Options(readOnly));

    /// <summary>Disposes the mount (durable flush, unmount, branch released); the mount point must be gone.</summary>
    private void DoUnmount()
    {
        var m = _mount;
        _mount = null;
        m?.Dispose();
        if (AgentMount.IsMountPoint(_mountPoint))
        {
            Detach();
            throw new InvalidOperationException($"{_mountPoint} was still mounted after AgentMount.Dispose");
        }
    }

    private void Detach()
    {
        using var p = Process.Start("umount", ["-l", _mountPoint])!;
        p.WaitForExit();
    }

    public int Apply(Step s, ref byte[]? data)
    {
        switch (s.Kind)
        {
            case OpKind.Flush:
                Mount.FileSystem.Flush();
                return 0;
            case OpKind.Reopen or OpKind.Remount:
                DoUnmount();
                DoMount();
                return 0;
            default:
            {
                int e = LibcSteps.Apply(s, _mountPoint, ref data);
                // AGENTFS_PROPERTY_AVOID=passthrough-release-race: an open for writing that meets the RELEASE of a
                // closed passthrough read still in flight (see MountDifferentialReproTests) is tried again.
                for (int i = 0; i < 50 && e == ETXTBSY && RetryBusyOpens && s.Kind is OpKind.Create or OpKind.WriteAt; i++)
                {
                    Thread.Sleep(10);
                    e = LibcSteps.Apply(s, _mountPoint, ref data);
                }
                return e;
            }
        }
    }

    private const int ETXTBSY = 26;

    public static readonly bool RetryBusyOpens = DifferentialRun.Avoid.Contains("passthrough-release-race");

    public long Checkpoint(string message) => Mount.FileSystem.Checkpoint(message).Id;

    public void Rollback(long checkpointId) => Mount.FileSystem.Rollback(checkpointId);

    /// <summary>The tree as seen through the mount (readdir, lstat, read, listxattr and getxattr on the mount point).</summary>
    public TreeSnapshot Snapshot(TreeSnapshot model)
    {
        if (LookUpBeforeListing)
            foreach (string p in model.Nodes.Keys)
                ModelLibc.TryStat(p.Length == 0 ? _mountPoint : _mountPoint + "/" + p, false, out _);
        return TreeSnapshot.OfModel(_mountPoint);
    }

    /// <summary>AGENTFS_PROPERTY_AVOID=readdirplus-unlooked: look every model path up through the mount before
    /// listing, so that READDIRPLUS never meets an untouched base entry the mount has not looked up yet (such
    /// entries are dropped from the listing: see MountDifferentialReproTests). Best effort: the kernel may forget
    /// an inode again between the lookup and the listing (memory reclaim, drop_caches), and then the entry is
    /// dropped all the same; the seed cBVnPjFUV8G1 (passthrough, 80 steps) fails so under drop_caches.</summary>
    public static readonly bool LookUpBeforeListing = DifferentialRun.Avoid.Contains("readdirplus-unlooked");

    /// <summary>After the last step: the tree survives unmounting (a durable flush) and mounting again read-only,
    /// the library reads the same tree from the store, and the untouched base file, only ever read through the
    /// mount, was never copied up.</summary>
    public (string Category, string Detail)? Finish(TreeSnapshot model)
    {
        if (ModelLibc.TryStat(_mountPoint + "/" + Operations.Untouched, false, out var keep) != 0)
            return ("untouched-missing", $"{Operations.Untouched} cannot be stat'ed through the mount");
        DoUnmount();

        DoMount(readOnly: true);
        TreeSnapshot mounted;
        try { mounted = Snapshot(model); }
        catch (Exception e) { return ("after-remount-read-tree", $"reading the read-only remount's tree failed: {e}"); }
        if (mounted.FirstDifference(model, "mount") is { } d1) return ("after-remount-" + d1.Category, d1.Detail);
        DoUnmount();

        using (var store = AgentStore.Open(_storePath, new StoreOptions { ReadOnly = true }))
        using (var fs = store.OpenFileSystem("main", readOnly: true))
        {
            TreeSnapshot lib;
            try { lib = TreeSnapshot.OfLibrary(fs); }
            catch (Exception e) { return ("after-reopen-read-tree", $"reading the store with the library failed: {e}"); }
            if (lib.FirstDifference(model) is { } d2) return ("after-reopen-" + d2.Category, d2.Detail);
        }

        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _storePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT (SELECT count(*) FROM inodes WHERE ino=$i) + (SELECT count(*) FROM chunks WHERE ino=$i)";
        cmd.Parameters.AddWithValue("$i", (long)keep.Ino);
        long rows = (long)cmd.ExecuteScalar()!;
        if (rows != 0) return ("copied-up", $"{Operations.Untouched} was only read through the mount but has {rows} rows in the store");
        return null;
    }

    /// <summary>Never leaves a mount behind.</summary>
    public void Dispose()
    {
        try { _mount?.Dispose(); }
        catch (Exception) { }
        finally
        {
            _mount = null;
            if (_mountPoint.Length > 0 && AgentMount.IsMountPoint(_mountPoint)) Detach();
        }
    }
}
