using AgentFs.Store;

namespace AgentFs;

public sealed partial class AgentStore
{
    /// <summary>
    /// Seals the branch's current state as a checkpoint when it changed since the last one, else does nothing and
    /// returns null. This is what a harness hook calls after every turn or tool call: a turn that only read
    /// leaves no empty checkpoint, and finding that out costs two indexed lookups on the top layer (no commit,
    /// no fsync). Through the process holding the branch when there is one (its pending, uncommitted changes
    /// count), like <see cref="Checkpoint(string, string?, IReadOnlyDictionary{string, string}?)"/>.
    /// </summary>
    public CheckpointInfo? CheckpointIfChanged(string branch = "main", string? message = null, IReadOnlyDictionary<string, string>? meta = null) =>
        AtWriter(branch,
            here: open => open.CheckpointIfChanged(message, meta),
            remote: holder => holder.CheckpointIfChanged(message, meta) is long id ? GetCheckpoint(id) : null,
            neither: () =>
            {
                long top = GetBranch(branch).TopLayer;
                return LayerHasRows(top) ? CheckpointCore(branch, top, message, meta).Info : null;
            },
            checkFirst: () => GetBranch(branch));

    /// <summary>
    /// Whether a layer holds any change: a directory entry or an inode version. Every change of the filesystem
    /// writes one of these in the layer it happens in (data chunks come with their inode's new size and mtime,
    /// truncation with its hide_from, xattrs live in the inode row), so chunks need no look (they have no index by
    /// layer). Operation-log rows alone are no change.
    /// </summary>
    internal bool LayerHasRows(long layer) => Read(c =>
        StoreDatabase.Scalar(c, "SELECT EXISTS(SELECT 1 FROM dentries WHERE layer=$l) OR EXISTS(SELECT 1 FROM inodes WHERE layer=$l)", null, ("$l", layer))
            is long n && n != 0);
}
