namespace AgentFs.Cli.Output;

// The JSON documents the command prints with --json. They are a stable interface for scripts: keys are
// snake_case, every key is always present (null when there is no value), and new keys may be added but
// existing ones keep their name and meaning. Documented in src/AgentFs.Cli/README.md.

/// <summary><c>init --json</c>.</summary>
internal sealed record StoreJson(string Store, string Base, int ChunkSize, string StoreId, string Branch);

/// <summary>One file: an entry of <c>fs ls --json</c> and the document of <c>fs stat --json</c>.</summary>
internal sealed record FileJson(string Path, string Name, string Type, string Mode, ulong Ino, uint Nlink, uint Uid, uint Gid,
    ulong Rdev, long Size, long Blocks, string Atime, string Mtime, string Ctime, string? Target)
{
    public static FileJson From(string path, string name, InodeAttributes a, string? target) => new(path, name,
        Formats.Type(a.Mode), Formats.Mode(a.Mode), a.Ino, a.Nlink, a.Uid, a.Gid, a.Rdev, a.Size, a.Blocks,
        Formats.Time(a.AtimeNs), Formats.Time(a.MtimeNs), Formats.Time(a.CtimeNs), target);
}

/// <summary><c>fs ls --json</c>: the listed path and its entries sorted by name (the path itself when it is not a directory).</summary>
internal sealed record ListingJson(string Branch, string Path, IReadOnlyList<FileJson> Entries);

/// <summary><c>fs cat --json</c>: the content as base64 (so any bytes survive).</summary>
internal sealed record ContentJson(string Branch, string Path, long Size, string DataBase64);

/// <summary>A checkpoint: <c>checkpoint --json</c> and each entry of <c>log --json</c>.</summary>
internal sealed record CheckpointJson(long Id, string Branch, string? Message, IReadOnlyDictionary<string, string> Meta, string Created)
{
    public static CheckpointJson From(CheckpointInfo c) => new(c.Id, c.Branch, c.Message, c.Meta, Formats.Time(c.Created));
}

/// <summary><c>log --json</c>: the checkpoints in the history of a branch, newest first.</summary>
internal sealed record LogJson(string Branch, IReadOnlyList<CheckpointJson> Checkpoints);

/// <summary>A branch: <c>branch --json</c> and each entry of <c>branches --json</c>. writer_pid is the live process holding it open for writing.</summary>
internal sealed record BranchJson(string Name, long? FromCheckpoint, string Created, int? WriterPid)
{
    public static BranchJson From(BranchInfo b, int? writerPid) => new(b.Name, b.FromCheckpoint, Formats.Time(b.Created), writerPid);
}

/// <summary><c>branches --json</c>, sorted by name.</summary>
internal sealed record BranchesJson(IReadOnlyList<BranchJson> Branches);

/// <summary><c>rollback --json</c>.</summary>
internal sealed record RollbackJson(string Branch, long Checkpoint);
