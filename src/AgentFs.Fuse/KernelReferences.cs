using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace AgentFs.Fuse;

/// <summary>
/// The kernel's lookup counts (what go-fuse's bridge keeps): every reply that hands the kernel an entry adds one
/// to its node, FORGET takes the count back down, and at zero the library is told (<see cref="AgentFileSystem.InodeOperations.Forget"/>)
/// that nothing holds the inode any more. The library itself counts nothing: its other users (the path API, the
/// diff, the trace, tar export) look names up without ever forgetting them.
/// </summary>
internal sealed class KernelReferences
{
    private readonly ConcurrentDictionary<ulong, StrongBox<long>> _counts = new();
    private readonly AgentFileSystem _fs;

    public KernelReferences(AgentFileSystem fs) => _fs = fs;

    /// <summary>The kernel got an entry for the node: one more reference.</summary>
    public void Add(ulong nodeId)
    {
        if (nodeId == InodeNumbers.Root) return; // the root is never forgotten
        var count = _counts.GetOrAdd(nodeId, static _ => new StrongBox<long>());
        Interlocked.Increment(ref count.Value);
    }

    /// <summary>FORGET: the kernel dropped <paramref name="n"/> references; at zero the library may forget the inode.</summary>
    public void Forget(ulong nodeId, ulong n)
    {
        if (!_counts.TryGetValue(nodeId, out var count)) return;
        if (Interlocked.Add(ref count.Value, -(long)n) > 0) return;
        if (_counts.TryRemove(new KeyValuePair<ulong, StrongBox<long>>(nodeId, count))) _fs.Inodes.Forget(nodeId);
    }

    /// <summary>The nodes the kernel holds (the root always), for invalidating what it caches about them.</summary>
    public IEnumerable<ulong> Known()
    {
        yield return InodeNumbers.Root;
        foreach (ulong nodeId in _counts.Keys) yield return nodeId;
    }
}
