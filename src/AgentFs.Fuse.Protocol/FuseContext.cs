namespace AgentFs.Fuse.Protocol;

/// <summary>
/// Who asked, and about what: the fields of the request header that every operation may need. Passed by
/// reference (<c>in</c>) so it costs nothing; do not keep it beyond the call.
/// </summary>
public readonly struct FuseContext
{
    private readonly FuseWorker? _worker;

    internal FuseContext(in FuseInHeader header, FuseWorker? worker)
    {
        Unique = header.Unique;
        NodeId = header.NodeId;
        Uid = header.Uid;
        Gid = header.Gid;
        Pid = header.Pid;
        Opcode = header.Opcode;
        _worker = worker;
    }

    /// <summary>Creates a context by hand, for calling a filesystem outside a mount (tests, tools).</summary>
    public FuseContext(ulong unique, ulong nodeId, uint uid, uint gid, uint pid)
    {
        Unique = unique;
        NodeId = nodeId;
        Uid = uid;
        Gid = gid;
        Pid = pid;
        Opcode = 0;
        _worker = null;
    }

    /// <summary>The kernel's id of this request.</summary>
    public ulong Unique { get; }

    /// <summary>The node the request is about (the parent directory for name operations).</summary>
    public ulong NodeId { get; }

    /// <summary>Effective uid of the calling process (in the mount's user namespace).</summary>
    public uint Uid { get; }

    /// <summary>Effective gid of the calling process.</summary>
    public uint Gid { get; }

    /// <summary>Thread group id of the calling process (0 for requests the kernel makes on its own, e.g. writeback).</summary>
    public uint Pid { get; }

    /// <summary>The request being served.</summary>
    public FuseOpcode Opcode { get; }

    /// <summary>
    /// True once the kernel sent FUSE_INTERRUPT for this request (the caller got a signal). A long
    /// operation may stop early and return EINTR; a short one may ignore it.
    /// </summary>
    public bool IsInterrupted => _worker is not null && _worker.IsInterrupted(Unique);
}
