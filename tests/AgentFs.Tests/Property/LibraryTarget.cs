using System.Text;

namespace AgentFs.Tests.Property;

/// <summary>The library's path API as the system under test (a store opened in the test process).</summary>
public sealed record RunSettings(int ChunkSize, TimeSpan? CommitInterval = null) : DifferentialSettings(ChunkSize)
{
    public StoreOptions Options => CommitInterval is { } ci
        ? new StoreOptions { ChunkSize = ChunkSize, CommitInterval = ci }
        : new StoreOptions { ChunkSize = ChunkSize };

    public override string TargetName => "library";
    public override string TestProject => "tests/AgentFs.Tests";

    public override string ToCode() => CommitInterval is { } ci
        ? $"new RunSettings({ChunkSize}, TimeSpan.FromMilliseconds({ci.TotalMilliseconds}))" : $"new RunSettings({ChunkSize})";

    public override IDifferentialTarget CreateTarget() => new LibraryTarget(this);

    public override string ToString() => $"chunk size {ChunkSize}" + (CommitInterval is { } ci ? $", commit interval {ci.TotalMilliseconds} ms" : "");
}

/// <summary>Applies steps with the library's path (and inode) API on the main branch of a store.</summary>
public sealed class LibraryTarget(RunSettings settings) : IDifferentialTarget
{
    private string _storePath = "";
    private AgentStore? _store;
    private AgentFileSystem? _fs;

    private AgentFileSystem Fs => _fs!;

    public void Start(string baseDir, string storePath, string workDir)
    {
        _storePath = storePath;
        _store = AgentStore.Create(storePath, baseDir, settings.Options);
        _fs = _store.OpenFileSystem("main");
    }

    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    public int Apply(Step s, ref byte[]? data)
    {
        var fs = Fs;
        switch (s.Kind)
        {
            case OpKind.Create: fs.WriteAllBytes(s.P, Step.Data(s.Seed, s.A), (uint)s.B); break;
            case OpKind.WriteAt: fs.WriteAt(s.P, s.A, Step.Data(s.Seed, s.B)); break;
            case OpKind.Truncate: fs.Truncate(s.P, s.A); break;
            case OpKind.Rename:
                if (s.Flags == 2) fs.Exchange(s.P, s.Q);
                else fs.Move(s.P, s.Q, overwrite: s.Flags != 1);
                break;
            case OpKind.Link: fs.CreateHardLink(s.P, s.Q); break;
            case OpKind.Remove:
                if (s.Flags == 0) fs.Delete(s.P);
                else
                {
                    ulong parent = fs.GetAttributes(Step.Parent(s.P)).Ino;
                    if (s.Flags == 1) fs.Inodes.Unlink(parent, U(Step.Name(s.P)));
                    else fs.Inodes.Rmdir(parent, U(Step.Name(s.P)));
                }
                break;
            case OpKind.Mkdir:
                if (s.Flags == 1) fs.Inodes.Mkdir(fs.GetAttributes(Step.Parent(s.P)).Ino, U(Step.Name(s.P)), (uint)s.A);
                else fs.CreateDirectory(s.P, (uint)s.A);
                break;
            case OpKind.Symlink: fs.CreateSymbolicLink(s.P, s.Q); break;
            case OpKind.Chmod: fs.SetMode(s.P, (uint)s.A); break;
            case OpKind.SetXattr:
                if (s.Flags == 0) fs.SetXattr(s.P, s.Q, Step.Data(s.Seed, s.A));
                else fs.Inodes.SetXattr(fs.GetAttributes(s.P).Ino, s.Q, Step.Data(s.Seed, s.A), s.Flags);
                break;
            case OpKind.RemoveXattr: fs.Inodes.RemoveXattr(fs.GetAttributes(s.P).Ino, s.Q); break;
            case OpKind.ReadAt:
            {
                ulong ino = fs.GetAttributes(s.P).Ino;
                var buf = new byte[s.B];
                int done = 0;
                while (done < buf.Length)
                {
                    int n = fs.Inodes.Read(ino, s.A + done, buf.AsSpan(done));
                    if (n <= 0) break;
                    done += n;
                }
                data = buf[..done];
                break;
            }
            case OpKind.Flush: fs.Flush(); break;
            case OpKind.Reopen:
                _fs!.Dispose();
                _store!.Dispose();
                _fs = null;
                _store = AgentStore.Open(_storePath, settings.Options);
                _fs = _store.OpenFileSystem("main");
                break;
        }
        return 0;
    }

    public long Checkpoint(string message) => Fs.Checkpoint(message).Id;

    public void Rollback(long checkpointId) => Fs.Rollback(checkpointId);

    public TreeSnapshot Snapshot(TreeSnapshot model) => TreeSnapshot.OfLibrary(Fs);

    /// <summary>Everything survives a flush and a reopen (read-only), and the untouched base file was never copied up.</summary>
    public (string Category, string Detail)? Finish(TreeSnapshot model)
    {
        var keep = Fs.GetAttributes(Operations.Untouched);
        Fs.Flush();
        long rows = _store!.Read(c =>
            (long)Store.StoreDatabase.Scalar(c, "SELECT (SELECT count(*) FROM inodes WHERE ino=$i) + (SELECT count(*) FROM chunks WHERE ino=$i)", null, ("$i", (long)keep.Ino))!);
        if (rows != 0) return ("copied-up", $"{Operations.Untouched} was only read but has {rows} rows in the store");
        _fs!.Dispose();
        _store.Dispose();
        _fs = null;
        _store = AgentStore.Open(_storePath, settings.Options);
        _fs = _store.OpenFileSystem("main", readOnly: true);
        TreeSnapshot lib;
        try { lib = TreeSnapshot.OfLibrary(Fs); }
        catch (Exception e) { return ("after-reopen-read-tree", $"reading the library's tree failed: {e}"); }
        return lib.FirstDifference(model) is { } d ? ("after-reopen-" + d.Category, d.Detail) : null;
    }

    public void Dispose()
    {
        try { _fs?.Dispose(); } catch { }
        try { _store?.Dispose(); } catch { }
        _fs = null;
        _store = null;
    }
}
