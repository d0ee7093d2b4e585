using System.Security.Cryptography;
using System.Text;
using Kind = AgentFs.Versions.TargetDirectory.Kind;

namespace AgentFs.Versions;

/// <summary>Checks a target directory against the base side of a diff, plans the steps, and carries them out.</summary>
internal sealed class Applier
{
    private readonly AgentStore _store;
    private readonly DiffSession _session;
    private readonly TargetDirectory _target;
    private readonly string _reference;
    private readonly List<ApplyConflict> _conflicts = new();
    private readonly HashSet<byte[]> _conflictPaths = new(ByteArrayComparer.Instance);
    private readonly List<FileChange> _skipped = new();
    private readonly List<(byte[] Path, FileChange Change)> _deleteFiles = new(), _writes = new();
    private readonly List<(byte[] Path, FileVersion Dir)> _deleteDirs = new(), _mkdirs = new(), _dirModes = new();
    private readonly List<(byte[] Path, uint Mode, uint OldMode)> _fileModes = new();
    private readonly bool _keepSpecialBits;
    private readonly List<ApplyDroppedBits> _droppedBits = new();
    /// <summary>The permission bits each written or chmodded path gets (set-id and sticky bits already left out).</summary>
    private readonly Dictionary<byte[], uint> _appliedModes = new(ByteArrayComparer.Instance);
    private List<ApplyAction> _actions = new();

    public Applier(AgentStore store, DiffSession session, TargetDirectory target, string reference, bool keepSpecialBits)
    {
        _store = store;
        _session = session;
        _target = target;
        _reference = reference;
        _keepSpecialBits = keepSpecialBits;
    }

    private const uint SpecialBits = 0xE00; // S_ISUID | S_ISGID | S_ISVTX

    /// <summary>
    /// The permission bits apply gives a path: what the branch asks for, without set-id and sticky bits unless
    /// the caller keeps them or the object apply changes already had them (existingMode: the base's mode of
    /// the same object on a mode-only change; 0 for anything apply creates, new content included).
    /// </summary>
    private uint AppliedMode(byte[] path, uint requested, uint existingMode)
    {
        if (_appliedModes.TryGetValue(path, out uint known)) return known;
        requested &= PosixMode.PermissionMask;
        uint applied = _keepSpecialBits ? requested : requested & ~(SpecialBits & ~existingMode);
        if (applied != requested) _droppedBits.Add(new ApplyDroppedBits(path, requested, applied));
        _appliedModes[path] = applied;
        return applied;
    }

    private uint AppliedMode(byte[] path) => _appliedModes[path];

    private static bool Writable(FileVersion? v) => v is { Type: FileType.File or FileType.Symlink };

    public ApplyResult Plan(bool dryRun, IProgress<VersionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var expected = new Dictionary<byte[], (FileVersion? Old, FileChange Change)>(ByteArrayComparer.Instance);
        foreach (var c in _session.Changes)
        {
            switch (c.Kind)
            {
                case ChangeKind.Added:
                    expected.TryAdd(c.RawPath, (null, c));
                    if (c.New!.Type == FileType.Directory) _mkdirs.Add((c.RawPath, c.New));
                    else if (Writable(c.New)) _writes.Add((c.RawPath, c));
                    else _skipped.Add(c);
                    break;
                case ChangeKind.Deleted:
                    // Special files cannot be created here, but deleting one is an unlink like any other.
                    expected[c.RawPath] = (c.Old, c);
                    if (c.Old!.Type == FileType.Directory) _deleteDirs.Add((c.RawPath, c.Old));
                    else _deleteFiles.Add((c.RawPath, c));
                    break;
                case ChangeKind.Renamed:
                    expected[c.RawOldPath!] = (c.Old, c);
                    expected.TryAdd(c.RawPath, (null, c));
                    _deleteFiles.Add((c.RawOldPath!, c));
                    _writes.Add((c.RawPath, c));
                    break;
                case ChangeKind.TypeChanged:
                    expected[c.RawPath] = (c.Old, c);
                    if (Writable(c.New)) _writes.Add((c.RawPath, c)); // renamed over the old one
                    else
                    {
                        _deleteFiles.Add((c.RawPath, c));
                        _skipped.Add(c);
                    }
                    break;
                case ChangeKind.Modified:
                    expected[c.RawPath] = (c.Old, c);
                    if (c.New!.Type == FileType.Directory) _dirModes.Add((c.RawPath, c.New));
                    else if (!Writable(c.New)) _skipped.Add(c);
                    else if (c.ContentChanged) _writes.Add((c.RawPath, c));
                    else _fileModes.Add((c.RawPath, c.New.Mode, c.Old!.Mode));
                    break;
            }
        }
        // New directories get their mode once everything inside them is written.
        foreach (var (p, v) in _mkdirs) _dirModes.Add((p, v));

        bool targetIsBase = _target.Dev == _store.Base.RootDev && _target.Ino == _store.Base.RootIno;
        int checkedPaths = 0;
        foreach (var (path, (old, change)) in expected.OrderBy(kv => kv.Key, ByteOrder.Instance))
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new VersionProgress("check", checkedPaths++, expected.Count, _target.Describe(path)));
            Check(path, old, change, compareContent: !targetIsBase);
        }
        foreach (var (path, dir) in _deleteDirs) CheckOnlyKnownEntries(path, dir);
        CheckRoom();

        _deleteDirs.Sort((x, y) => Depth(y.Path).CompareTo(Depth(x.Path)));
        _mkdirs.Sort((x, y) => Depth(x.Path).CompareTo(Depth(y.Path)));
        _dirModes.Sort((x, y) => Depth(y.Path).CompareTo(Depth(x.Path)));
        _actions = new List<ApplyAction>();
        var written = new HashSet<byte[]>(_writes.Select(w => w.Path), ByteArrayComparer.Instance);
        foreach (var (p, _) in _deleteFiles)
            if (!written.Contains(p)) _actions.Add(new ApplyAction(ApplyActionKind.Delete, p, 0));
        foreach (var (p, _) in _deleteDirs) _actions.Add(new ApplyAction(ApplyActionKind.RemoveDirectory, p, 0));
        // A directory the branch only changes keeps the special bits it has in the target (checked equal to
        // the base's); new directories and new content (a new file replaces the old one) start from none.
        var modifiedDirs = new Dictionary<byte[], uint>(ByteArrayComparer.Instance);
        foreach (var c in _session.Changes)
            if (c.Kind == ChangeKind.Modified && c.New!.Type == FileType.Directory) modifiedDirs[c.RawPath] = c.Old!.Mode;
        foreach (var (p, v) in _mkdirs) _actions.Add(new ApplyAction(ApplyActionKind.CreateDirectory, p, AppliedMode(p, v.Mode, 0)));
        foreach (var (p, c) in _writes)
            _actions.Add(c.New!.Type == FileType.Symlink
                ? new ApplyAction(ApplyActionKind.WriteSymlink, p, c.New.Permissions)
                : new ApplyAction(ApplyActionKind.WriteFile, p, AppliedMode(p, c.New.Mode, 0)));
        foreach (var (p, m, old) in _fileModes) _actions.Add(new ApplyAction(ApplyActionKind.SetMode, p, AppliedMode(p, m, old)));
        foreach (var (p, v) in _dirModes)
            _actions.Add(new ApplyAction(ApplyActionKind.SetMode, p, AppliedMode(p, v.Mode, modifiedDirs.GetValueOrDefault(p))));
        _conflicts.Sort((x, y) => x.RawPath.AsSpan().SequenceCompareTo(y.RawPath));
        _droppedBits.Sort((x, y) => x.RawPath.AsSpan().SequenceCompareTo(y.RawPath));
        return new ApplyResult(_target.Root, _reference, dryRun, _session.Changes, _actions, _conflicts, _skipped, _droppedBits);
    }

    private static int Depth(byte[] p) => p.Count(b => b == '/');

    /// <summary>
    /// All new content is staged in the target before anything there changes, so it must fit in the room left on the
    /// target's file system: otherwise (a sparse file of terabytes, or a size in a damaged store) the apply is refused
    /// here, naming the largest file and its size, instead of filling the disk. Checked from 64 MiB of content on.
    /// </summary>
    private void CheckRoom()
    {
        long total = 0, largestSize = -1;
        byte[] largest = [];
        foreach (var (p, c) in _writes)
        {
            if (c.New!.Type != FileType.File) continue;
            long size = c.New.Size;
            total = total > long.MaxValue - size ? long.MaxValue : total + size;
            if (size > largestSize) (largest, largestSize) = (p, size);
        }
        if (total < 64L << 20) return;
        long free = StoreFiles.FreeBytes(_target.Root);
        if (free >= 0 && total > free)
            throw new AgentFsException(Errno.ENOSPC,
                $"applying branch changes to {_target.Root} would write {total} bytes, more than the {free} bytes free there " +
                $"(the largest file: {_target.Describe(largest)}, {largestSize} bytes; a sparse file?); nothing was written");
    }

    private void Conflict(byte[] path, string reason)
    {
        if (_conflictPaths.Add(path)) _conflicts.Add(new ApplyConflict(path, reason));
    }

    /// <summary>The target at path must be what the base side of the diff has there (old; null: nothing).</summary>
    private void Check(byte[] path, FileVersion? old, FileChange change, bool compareContent)
    {
        var e = _target.Lstat(path);
        if (e.BlockedAt is { } blocked)
        {
            // A component on the way is missing or not a directory in the target.
            if (_session.From.Resolve(blocked) is { IsDirectory: true })
                Conflict(blocked, e.BlockedBy switch
                {
                    Kind.Missing => "directory is missing in the target",
                    Kind.Symlink => "is a symlink in the target where the base has a directory (apply never follows symlinks)",
                    _ => $"is a {KindName(e.BlockedBy)} in the target where the base has a directory",
                });
            else if (old != null) Conflict(path, "is missing in the target");
            return;
        }
        if (old == null)
        {
            if (e.Exists) Conflict(path, $"already exists in the target ({KindName(e.Kind)}) but not in the base");
            return;
        }
        if (!e.Exists)
        {
            Conflict(path, "is missing in the target");
            return;
        }
        switch (old.Type)
        {
            case FileType.Directory:
                if (e.Kind != Kind.Directory) Conflict(path, $"is a {KindName(e.Kind)} in the target where the base has a directory");
                else if (change.Kind == ChangeKind.Modified && (e.Mode & PosixMode.PermissionMask) != old.Permissions)
                    Conflict(path, $"has mode {Octal(e.Mode)} in the target, the base has {Octal(old.Mode)}");
                break;
            case FileType.File:
                if (e.Kind != Kind.File) Conflict(path, $"is a {KindName(e.Kind)} in the target where the base has a file");
                else if ((e.Mode & PosixMode.PermissionMask) != old.Permissions)
                    Conflict(path, $"has mode {Octal(e.Mode)} in the target, the base has {Octal(old.Mode)}");
                else if (e.Size != old.Size) Conflict(path, "was changed in the target (size differs from the base)");
                else if (compareContent && !_target.ContentEquals(path, old.Size, sink => _session.From.ReadChunks(old.Ino, old.Size, path, sink)))
                    Conflict(path, "was changed in the target (content differs from the base)");
                break;
            case FileType.Symlink:
                if (e.Kind != Kind.Symlink) Conflict(path, $"is a {KindName(e.Kind)} in the target where the base has a symlink");
                else if (!_target.ReadLink(path).AsSpan().SequenceEqual(old.RawLinkTarget)) Conflict(path, "points elsewhere in the target than in the base");
                break;
            default:
                if (e.Kind != Kind.Other) Conflict(path, $"is a {KindName(e.Kind)} in the target where the base has a {old.Type.ToString().ToLowerInvariant()}");
                break;
        }
    }

    /// <summary>A directory the branch deletes must hold nothing in the target that the base does not have there.</summary>
    private void CheckOnlyKnownEntries(byte[] path, FileVersion dir)
    {
        if (_conflictPaths.Contains(path) || _target.Lstat(path).Kind != Kind.Directory) return;
        if (_session.From.Resolve(path) is not { IsDirectory: true } node) return;
        var known = new HashSet<byte[]>(_session.From.List(node, path).Select(x => x.Name), ByteArrayComparer.Instance);
        foreach (var name in _target.ListNames(path))
            if (!known.Contains(name))
                Conflict(TreeDiffer.Join(path, name), "is in the target but not in the base, inside a directory that is deleted");
    }

    private static string KindName(Kind k) => k switch
    {
        Kind.Directory => "directory", Kind.File => "file", Kind.Symlink => "symlink", Kind.Missing => "nothing", _ => "special file",
    };

    private static string Octal(uint mode) => Convert.ToString(mode & PosixMode.PermissionMask, 8).PadLeft(4, '0');

    // ---- carrying it out --------------------------------------------------------------------------

    public void Execute(IProgress<VersionProgress>? progress, CancellationToken cancellationToken)
    {
        long total = _writes.Count + _actions.Count, done = 0;
        void Step(string phase, byte[]? path) => progress?.Report(new VersionProgress(phase, done++, total, path == null ? null : _target.Describe(path)));
        // Execute runs _actions in their order; this counts those carried out, for the message when one fails.
        int completed = 0;

        byte[] staging = System.Text.Encoding.ASCII.GetBytes($".agentfs-apply-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");
        using (var root = _target.OpenDirectory([])) _target.Mkdir(root, staging, 0x1C0, staging);
        var touched = new HashSet<byte[]>(ByteArrayComparer.Instance) { Array.Empty<byte>() };
        try
        {
            using (var stage = _target.OpenDirectory(staging))
            {
                // 1. All new content is written and synced before the target is touched at all.
                for (int i = 0; i < _writes.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var (path, c) = _writes[i];
                    Step("stage", path);
                    byte[] name = System.Text.Encoding.ASCII.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    if (c.New!.Type == FileType.Symlink) _target.CreateSymlink(stage, name, c.New.RawLinkTarget!, path);
                    else _target.CreateFile(stage, name, AppliedMode(path), sink => ReadNew(c, path, sink), path);
                }
            }
            cancellationToken.ThrowIfCancellationRequested(); // the last point where the target is untouched
            foreach (var a in _actions.Where(a => a.Kind == ApplyActionKind.Delete))
            {
                Step("delete", a.RawPath);
                using var dir = _target.OpenDirectory(TargetDirectory.Parent(a.RawPath));
                _target.Unlink(dir, TargetDirectory.Name(a.RawPath), directory: false, a.RawPath);
                touched.Add(TargetDirectory.Parent(a.RawPath));
                completed++;
            }
            foreach (var (path, _) in _deleteDirs)
            {
                Step("rmdir", path);
                using var dir = _target.OpenDirectory(TargetDirectory.Parent(path));
                _target.Unlink(dir, TargetDirectory.Name(path), directory: true, path);
                touched.Add(TargetDirectory.Parent(path));
                completed++;
            }
            foreach (var (path, _) in _mkdirs)
            {
                Step("mkdir", path);
                using var dir = _target.OpenDirectory(TargetDirectory.Parent(path));
                _target.Mkdir(dir, TargetDirectory.Name(path), 0x1C0, path);
                touched.Add(TargetDirectory.Parent(path));
                completed++;
            }
            using (var stage = _target.OpenDirectory(staging))
            {
                for (int i = 0; i < _writes.Count; i++)
                {
                    var (path, c) = _writes[i];
                    Step("write", path);
                    byte[] name = System.Text.Encoding.ASCII.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    using var dir = _target.OpenDirectory(TargetDirectory.Parent(path));
                    int err = _target.Rename(stage, name, dir, TargetDirectory.Name(path));
                    if (err == Errno.EXDEV)
                    {
                        // The parent is on another file system than TARGET: stage beside the file instead.
                        byte[] tmp = System.Text.Encoding.ASCII.GetBytes($".agentfs-apply-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");
                        if (c.New!.Type == FileType.Symlink) _target.CreateSymlink(dir, tmp, c.New.RawLinkTarget!, path);
                        else _target.CreateFile(dir, tmp, AppliedMode(path), sink => ReadNew(c, path, sink), path);
                        err = _target.Rename(dir, tmp, dir, TargetDirectory.Name(path));
                        _target.Unlink(stage, name, directory: false, path);
                    }
                    if (err != 0)
                        throw new AgentFsException(err == Errno.ENOSPC ? Errno.ENOSPC : Errno.EIO,
                            $"cannot put {_target.Describe(path)} in place in target {_target.Root} ({Errno.Name(err)})");
                    touched.Add(TargetDirectory.Parent(path));
                    completed++;
                }
            }
            foreach (var (path, _, _) in _fileModes)
            {
                Step("chmod", path);
                _target.Chmod(path, AppliedMode(path));
                completed++;
            }
            foreach (var (path, _) in _dirModes)
            {
                Step("chmod", path);
                _target.Chmod(path, AppliedMode(path));
                completed++;
            }
            foreach (var dir in touched.OrderByDescending(d => d.Length)) _target.SyncDirectory(dir);
        }
        catch (AgentFsException e)
        {
            throw ApplyStopped.Attach(
                new AgentFsException(e.Errno, $"apply of {_reference} to {_target.Root} stopped: {e.Message}; {Progress(completed)}", e),
                _actions.Take(completed).ToArray(), _actions.Skip(completed).ToArray());
        }
        finally
        {
            RemoveStaging(staging);
        }
        progress?.Report(new VersionProgress("done", total, total, null));
    }

    /// <summary>Exactly what a stopped apply changed in the target and what it did not (each path is either
    /// old or new, never half written).</summary>
    private string Progress(int completed)
    {
        const int Max = 20;
        static string List(IEnumerable<ApplyAction> actions, int count, bool past)
        {
            string text = string.Join(", ", actions.Take(Max).Select(a => $"{Verb(a.Kind, past)} {Encoding.UTF8.GetString(a.RawPath)}"));
            return count > Max ? $"{text} and {count - Max} more" : text;
        }
        int left = _actions.Count - completed;
        string notDone = left == 0 ? "" : $"; not done ({left}): {List(_actions.Skip(completed), left, past: false)}";
        if (completed == 0) return $"nothing in the target was changed{notDone}";
        return $"already done in the target ({completed} of {_actions.Count}): {List(_actions.Take(completed), completed, past: true)}{notDone}";
    }

    private static string Verb(ApplyActionKind kind, bool past) => kind switch
    {
        ApplyActionKind.Delete => past ? "deleted" : "delete",
        ApplyActionKind.RemoveDirectory => past ? "removed directory" : "remove directory",
        ApplyActionKind.CreateDirectory => past ? "created directory" : "create directory",
        ApplyActionKind.WriteFile => past ? "wrote" : "write",
        ApplyActionKind.WriteSymlink => past ? "wrote symlink" : "write symlink",
        _ => "set the mode of",
    };

    private void ReadNew(FileChange c, byte[] path, Action<ReadOnlySpan<byte>> sink)
    {
        long total = 0;
        _session.To.ReadChunks(c.New!.Ino, c.New.Size, path, span => { total += span.Length; sink(span); });
        if (total != c.New.Size)
            throw new AgentFsException(Errno.EIO, $"{_target.Describe(path)} in {_session.To.State} ended after {total} of {c.New.Size} bytes while reading it");
    }

    private void RemoveStaging(byte[] staging)
    {
        try
        {
            using var stage = _target.OpenDirectory(staging);
            foreach (var name in _target.ListNames(staging)) _target.Unlink(stage, name, directory: false, TreeDiffer.Join(staging, name));
            using var root = _target.OpenDirectory([]);
            _target.Unlink(root, staging, directory: true, staging);
        }
        catch (AgentFsException) { /* best effort: a leftover .agentfs-apply-* directory holds only staged copies */ }
    }
}
