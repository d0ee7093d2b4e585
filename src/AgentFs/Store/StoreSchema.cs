namespace AgentFs.Store;

/// <summary>
/// The store's schema, versioned with PRAGMA user_version and marked with PRAGMA application_id.
///
/// Invariants (what a row means):
/// - layers: a layer holds changes over its parent; the chain of a branch is top, parent, ... up to a
///   layer with no parent, then the base directory. Only a branch's top layer is ever written; a layer
///   that a checkpoint names is sealed and never changes again (which is what lets readers cache it).
/// - dentries(parent, name, layer): in that layer, name in directory parent is inode ino (of d_type
///   type), or, when ino = 0, is deleted (a whiteout) whatever lower layers or the base say.
/// - inodes(ino, layer): the whole state of the inode as of that layer. hide_from hides data of lower
///   layers and of the base at offsets >= hide_from (a truncate); origin is the base-relative path whose
///   children (directory) or bytes (file) show through; base_* is the identity of that base file when
///   it was copied up, checked before base bytes are served again.
/// - chunks(ino, idx, layer): bytes [idx*chunk_size, idx*chunk_size + length(data)) of the file as of
///   that layer; bytes of the chunk past length(data) are zeros. A chunk row exists only in a layer that
///   also has an inode row for ino. Chunks not in any layer read from the base (below hide_from and
///   the recorded base size) or as zeros (sparse).
/// - oplog (versions 1 and 2 wrote it; read, never written since version 3): one row per commit; entries is the
///   batch of operations of that commit, encoded by OperationLogCodec (time, op, inode, parent, name, bytes, pid,
///   uid, process name each), without paths.
/// - ops (version 3): one row per operation, written with the commit that holds its change: when (time_ns),
///   on which branch and into which top layer, what (op), the path it acted on as it was then (path, relative
///   to the branch root, '.' for the root; to_path: a rename's new path; NULL when the name was not known), the inode,
///   bytes written (or the new size, for a truncate), and the caller (pid, uid, process name). Indexed by what
///   'agentfs ops' filters on, so a query costs in proportion to the rows it returns (OperationLogReader).
/// - An inode that an overlay dentry names has an inode row somewhere in the chain.
/// - Every layer that has a dentry row under a parent also has an inode row for that parent (creating,
///   linking, removing and renaming all update the parent's times), and every layer that hides or
///   replaces an object of lower layers or the base has an inode row for that object (a copy-up or a
///   tombstone with nlink 0): the diff of two states relies on both (see Versions/README.md).
///
/// Versions: 1 the tables; 2 dentries_by_ino (where an inode is linked, for diffs); 3 ops (the operation log
/// by operation, with paths; rows of oplog stay and are read as they are).
/// </summary>
internal static class StoreSchema
{
    public const int CurrentVersion = 3;
    public const int ApplicationId = 0x41674673; // "AgFs"

    /// <summary>Migrations[i] takes a store from version i to version i + 1.</summary>
    public static readonly string[] Migrations =
    [
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
        CREATE TABLE layers(id INTEGER PRIMARY KEY, parent INTEGER REFERENCES layers(id), created_ns INTEGER NOT NULL);
        CREATE TABLE branches(name TEXT PRIMARY KEY, top_layer INTEGER NOT NULL, created_ns INTEGER NOT NULL,
            from_checkpoint INTEGER) WITHOUT ROWID;
        CREATE TABLE checkpoints(id INTEGER PRIMARY KEY, layer INTEGER NOT NULL UNIQUE, branch TEXT NOT NULL,
            message TEXT, meta TEXT, created_ns INTEGER NOT NULL);
        CREATE TABLE dentries(parent INTEGER NOT NULL, name BLOB NOT NULL, layer INTEGER NOT NULL,
            ino INTEGER NOT NULL, type INTEGER NOT NULL, PRIMARY KEY(parent, name, layer)) WITHOUT ROWID;
        CREATE INDEX dentries_by_layer ON dentries(layer);
        CREATE TABLE inodes(ino INTEGER NOT NULL, layer INTEGER NOT NULL, mode INTEGER NOT NULL, uid INTEGER NOT NULL,
            gid INTEGER NOT NULL, nlink INTEGER NOT NULL, size INTEGER NOT NULL, atime_ns INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, rdev INTEGER NOT NULL, origin BLOB,
            hide_from INTEGER NOT NULL, base_dev INTEGER, base_ino INTEGER, base_size INTEGER, base_mtime_ns INTEGER,
            base_ctime_ns INTEGER, target BLOB, xattrs BLOB, xattrs_from_base INTEGER NOT NULL,
            PRIMARY KEY(ino, layer)) WITHOUT ROWID;
        CREATE INDEX inodes_by_layer ON inodes(layer);
        CREATE TABLE chunks(id INTEGER PRIMARY KEY, ino INTEGER NOT NULL, idx INTEGER NOT NULL, layer INTEGER NOT NULL,
            data BLOB NOT NULL);
        CREATE UNIQUE INDEX chunks_key ON chunks(ino, idx, layer);
        CREATE TABLE oplog(seq INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, branch TEXT NOT NULL, layer INTEGER NOT NULL,
            count INTEGER NOT NULL, entries BLOB NOT NULL);
        CREATE TABLE leases(branch TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, started_ns INTEGER NOT NULL,
            proc_start TEXT) WITHOUT ROWID;
        """,
        """
        CREATE INDEX dentries_by_ino ON dentries(ino);
        """,
        """
        CREATE TABLE ops(seq INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, branch TEXT NOT NULL, layer INTEGER NOT NULL,
            op TEXT NOT NULL, path BLOB, to_path BLOB, ino INTEGER NOT NULL, bytes INTEGER NOT NULL, pid INTEGER NOT NULL,
            uid INTEGER NOT NULL, process TEXT NOT NULL);
        CREATE INDEX ops_by_time ON ops(branch, time_ns);
        CREATE INDEX ops_by_path ON ops(path);
        CREATE INDEX ops_by_process ON ops(process, branch, time_ns);
        CREATE INDEX ops_by_pid ON ops(pid, branch, time_ns);
        CREATE INDEX ops_by_op ON ops(op, branch, time_ns);
        """,
    ];
}
