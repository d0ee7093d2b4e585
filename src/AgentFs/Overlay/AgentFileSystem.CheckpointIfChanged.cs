using AgentFs.Overlay;

namespace AgentFs;

public sealed partial class AgentFileSystem
{
    /// <summary>
    /// Seals the branch's state as a checkpoint when it changed since the last checkpoint (or since the branch
    /// began), else returns null and writes nothing. The question is answered from memory (changes not yet
    /// committed) and two indexed lookups of the top layer's rows; the commit and the checkpoint happen only when
    /// there is something to seal. See <see cref="AgentStore.CheckpointIfChanged"/>.
    /// </summary>
    public CheckpointInfo? CheckpointIfChanged(string? message = null, IReadOnlyDictionary<string, string>? meta = null)
    {
        CheckWritable();
        lock (_flushLock)
        lock (_writeLock)
        {
            if (!HoldsChanges(_current) && !(_flushing is { } stuck && HoldsChanges(stuck)) && !_store.LayerHasRows(_chain.Top))
                return null;
            return Checkpoint(message, meta);
        }
    }

    /// <summary>Whether a memtable holds a change of the tree (operation-log entries alone are none).</summary>
    private static bool HoldsChanges(MemTable table) => !table.Dentries.IsEmpty || !table.Inodes.IsEmpty || !table.Chunks.IsEmpty;
}
