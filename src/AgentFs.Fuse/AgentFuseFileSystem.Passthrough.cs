using AgentFs.Fuse.Protocol;

namespace AgentFs.Fuse;

/// <summary>
/// The passthrough table: read-only opens of base files the branch never changed hand the kernel the base file
/// itself (a backing id), so reads run at native speed. One backing id per inode, shared by its passthrough opens.
/// </summary>
public sealed partial class AgentFuseFileSystem
{
    /// <summary>Inodes the kernel reads through passthrough (the base file), with the backing id and open count.</summary>
    private readonly Dictionary<ulong, (int BackingId, int Opens)> _passthrough = new();
    private const ulong PassthroughFh = 1UL << 63;

    /// <summary>Use FUSE passthrough for read-only opens of base files the branch never changed.</summary>
    public bool Passthrough { get; init; }

    /// <summary>
    /// Opens through passthrough when it applies: true with the reply's result when the open is answered here (a
    /// passthrough open, or ETXTBSY for a writer while the base file is read through passthrough); false when the
    /// open is a cached one.
    /// </summary>
    private bool TryOpenPassthrough(ulong nodeId, int flags, ref FuseOpenOut open, out int result)
    {
        const int O_ACCMODE = 3;
        result = 0;
        if (Passthrough && Session is { } session && (session.Connection.KernelFlags & FuseInitFlags.Passthrough) != 0)
        {
            lock (_passthrough)
            {
                bool active = _passthrough.TryGetValue(nodeId, out var pt);
                if ((flags & O_ACCMODE) != 0)
                {
                    // The kernel refuses to mix passthrough and cached opens of one inode, and a write must
                    // never reach the base: while the base file is read through passthrough, writers wait.
                    // The kernel sends RELEASE after close(2) returned, so give a just-closed reader a moment.
                    for (int wait = 0; active && wait < 100; wait++)
                    {
                        Monitor.Exit(_passthrough);
                        try { Thread.Sleep(2); }
                        finally { Monitor.Enter(_passthrough); }
                        active = _passthrough.ContainsKey(nodeId);
                    }
                    if (active)
                    {
                        result = 26; // ETXTBSY
                        return true;
                    }
                }
                else
                {
                    int fd = active ? -1 : _inodes.TryOpenUntouchedBaseFile(nodeId);
                    if (active || fd >= 0)
                    {
                        if (!active)
                        {
                            int rc = session.OpenBacking(fd, out int id);
                            Native.BaseDirectory.Close(fd);
                            if (rc != 0) return false;
                            pt = (id, 0);
                        }
                        _passthrough[nodeId] = (pt.BackingId, pt.Opens + 1);
                        _inodes.Open(nodeId, false);
                        open.Fh = PassthroughFh;
                        open.BackingId = pt.BackingId;
                        open.OpenFlags = FuseOpenFlags.Passthrough;
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /// <summary>A passthrough open was released: the last one closes the backing id.</summary>
    private void ReleasePassthrough(ulong nodeId)
    {
        lock (_passthrough)
        {
            if (!_passthrough.TryGetValue(nodeId, out var pt)) return;
            if (pt.Opens <= 1)
            {
                _passthrough.Remove(nodeId);
                Session?.CloseBacking(pt.BackingId);
            }
            else _passthrough[nodeId] = (pt.BackingId, pt.Opens - 1);
        }
    }
}
