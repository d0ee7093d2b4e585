namespace AgentFs.Versions;

/// <summary>The changes between two states, with read-only views of both kept open to read what changed.</summary>
internal sealed class DiffSession : IDisposable
{
    private DiffSession(StateView from, StateView to, List<FileChange> changes, DiffStats stats)
    {
        From = from;
        To = to;
        Changes = changes;
        Stats = stats;
    }

    public StateView From { get; }
    public StateView To { get; }
    public List<FileChange> Changes { get; }
    public DiffStats Stats { get; }
    /// <summary>Changes inside version-control internals removed by <see cref="LeaveOutVcs"/>.</summary>
    public int VcsLeftOut { get; private set; }

    /// <summary>Drops the changes inside <c>.git</c>, <c>.hg</c> and <c>.jj</c> (see <see cref="VcsPaths"/>).</summary>
    public void LeaveOutVcs() => VcsLeftOut += VcsPaths.LeaveOut(Changes);

    /// <param name="operation">What the caller is about to do, for the message when the base drifted ("diff", "apply", ...).</param>
    public static DiffSession Open(AgentStore store, StoreState from, StoreState to, string operation)
    {
        var stats = new DiffStats();
        StateView? a = null, b = null;
        try
        {
            a = new StateView(store, from, stats);
            b = new StateView(store, to, stats);
            var changes = TreeDiffer.Run(store, a, b, stats, operation);
            return new DiffSession(a, b, changes, stats);
        }
        catch
        {
            a?.Dispose();
            b?.Dispose();
            throw;
        }
    }

    /// <summary>The bytes git diffs for one side: a file's content or a symlink's target.</summary>
    public byte[] Content(FileChange change, bool old)
    {
        var v = old ? change.Old! : change.New!;
        if (v.Type == FileType.Symlink) return v.RawLinkTarget!;
        var view = old ? From : To;
        byte[] data = view.ReadAll(v.Ino, v.Size, old ? change.RawOldPath ?? change.RawPath : change.RawPath);
        if (data.Length != v.Size)
            throw new AgentFsException(Errno.EIO, $"{(old ? change.OldPath ?? change.Path : change.Path)} in {view.State} ended after {data.Length} of {v.Size} bytes while reading it");
        return data;
    }

    public void Dispose()
    {
        From.Dispose();
        To.Dispose();
    }
}
