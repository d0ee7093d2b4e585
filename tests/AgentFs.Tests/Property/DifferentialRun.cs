using System.Diagnostics;
using System.Text;

namespace AgentFs.Tests.Property;

public sealed record RunSettings(int ChunkSize, TimeSpan? CommitInterval = null)
{
    public StoreOptions Options => CommitInterval is { } ci
        ? new StoreOptions { ChunkSize = ChunkSize, CommitInterval = ci }
        : new StoreOptions { ChunkSize = ChunkSize };

    public override string ToString() => $"chunk size {ChunkSize}" + (CommitInterval is { } ci ? $", commit interval {ci.TotalMilliseconds} ms" : "");
}

/// <summary>How often each kind of operation succeeded or failed (with which errno) on the model: shows whether
/// the generator reaches interesting states.</summary>
public sealed class RunStats
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(OpKind, int), int> _counts = new();

    public void Count(OpKind kind, int errno) => _counts.AddOrUpdate((kind, errno), 1, (_, n) => n + 1);

    public override string ToString() => string.Join("\n", _counts.GroupBy(kv => kv.Key.Item1).OrderBy(g => g.Key).Select(g =>
        $"  {g.Key,-12} {g.Sum(kv => kv.Value),6}: " + string.Join(", ", g.OrderByDescending(kv => kv.Value)
            .Select(kv => $"{(kv.Key.Item2 == 0 ? "ok" : Errno.Name(kv.Key.Item2))} {kv.Value}"))));
}

/// <summary>A mismatch between the library and the model.</summary>
public sealed record PropertyFailure(RunSettings Settings, List<Step> BaseTree, List<Step> Steps,
    int FailingStep, string Category, string Detail)
{
    /// <summary>What minimization keeps: the kind of the failing operation and the kind of difference.</summary>
    public string Signature => (FailingStep == 0 ? "initial" : FailingStep > Steps.Count ? "final" : Steps[FailingStep - 1].Kind.ToString()) + "/" + Category;

    public string Report(string title)
    {
        var sb = new StringBuilder();
        string where = FailingStep == 0 ? "before the first operation (the overlay of the base tree)"
            : FailingStep > Steps.Count ? "in the final checks"
            : $"at step {FailingStep} of {Steps.Count}: {Steps[FailingStep - 1]}";
        sb.Append($"{title}: library and model differ {where} ({Settings})\n");
        sb.Append($"  [{Category}] {Detail.Replace("\n", "\n  ")}\n");
        sb.Append("Base tree (the store overlays it; the model started as cp -a of it):\n");
        sb.Append($"    file    {Operations.Untouched} (never touched by operations)\n");
        foreach (var b in BaseTree) sb.Append("    ").Append(b.BaseString()).Append('\n');
        sb.Append("Operations (paths relative to the root):\n");
        sb.Append(Operations.Describe(FailingStep > Steps.Count ? Steps : Steps.Take(Math.Max(FailingStep, 0)), FailingStep));
        return sb.ToString();
    }

    /// <summary>The case as C# for a regression test (see DifferentialReproTests).</summary>
    public string Code()
    {
        var steps = FailingStep > Steps.Count ? Steps : Steps.Take(Math.Max(FailingStep, 0)).ToList();
        string settings = Settings.CommitInterval is { } ci
            ? $"new RunSettings({Settings.ChunkSize}, TimeSpan.FromMilliseconds({ci.TotalMilliseconds}))" : $"new RunSettings({Settings.ChunkSize})";
        return $"DifferentialRun.AssertSame({settings},\n" +
               $"    baseTree: [{string.Join(", ", BaseTree.Select(b => b.ToCode()))}],\n" +
               $"    steps: [{string.Join(", ", steps.Select(b => b.ToCode()))}]);";
    }
}

/// <summary>
/// Runs one case against the library (a store over a base directory) and against a model (a real directory
/// that starts as a copy of the base), comparing each operation's errno and then the whole observable tree.
/// </summary>
public sealed class DifferentialRun : IDisposable
{
    private readonly RunSettings _settings;
    private readonly string _root, _baseDir, _modelDir, _storePath, _snapDir;
    private readonly List<string> _baseDescription = [];
    private readonly List<(long Id, string Dir)> _checkpoints = [];
    private readonly List<int> _history = [];
    private RunStats? _stats;
    private AgentStore? _store;
    private AgentFileSystem? _fs;
    private TreeSnapshot? _model;
    private string _baseHash = "";

    private DifferentialRun(RunSettings settings)
    {
        _settings = settings;
        _root = NewTempDir(TempParent, "agentfs-prop-");
        _baseDir = _root + "/base";
        _modelDir = _root + "/model";
        _storePath = _root + "/store.agentfs";
        _snapDir = _root + "/checkpoints";
        Directory.CreateDirectory(_snapDir);
    }

    /// <summary>Where the cases' directories go: AGENTFS_PROPERTY_TMP, else /dev/shm when it is a tmpfs with user
    /// xattrs (fsync is free there, and the store fsyncs a lot), else the temp directory.</summary>
    public static readonly string TempParent = ChooseTempParent();

    private static string ChooseTempParent()
    {
        if (Environment.GetEnvironmentVariable("AGENTFS_PROPERTY_TMP") is { Length: > 0 } dir) return dir.TrimEnd('/');
        try
        {
            var probe = NewTempDir("/dev/shm", "agentfs-probe-");
            try
            {
                if (ModelLibc.SetXattr(probe, "user.probe", [1], 0) == 0) return "/dev/shm";
            }
            finally { Directory.Delete(probe); }
        }
        catch (Exception) { }
        return Path.GetTempPath().TrimEnd('/');
    }

    private static string NewTempDir(string parent, string prefix) =>
        Directory.CreateDirectory(Path.Combine(parent, prefix + Guid.NewGuid().ToString("N")[..12])).FullName;

    private AgentFileSystem Fs => _fs!;
    private string M(string rel) => rel.Length == 0 ? _modelDir : _modelDir + "/" + rel;
    private static string Under(string root, string rel) => rel.Length == 0 ? root : root + "/" + rel;

    /// <summary>Runs a generated case (base entries and operations resolved against the state as it goes) or,
    /// with baseTree and steps, a concrete one.</summary>
    public static PropertyFailure? Run(RunSettings settings, BaseEntry[]? generatedBase, GenOp[]? generated,
        List<Step>? baseTree = null, List<Step>? steps = null, RunStats? stats = null)
    {
        using var run = new DifferentialRun(settings) { _stats = stats };
        return run.Execute(generatedBase, generated, baseTree, steps);
    }

    /// <summary>For regression tests: runs a concrete case and fails with the report when the library and Linux differ.</summary>
    public static void AssertSame(RunSettings settings, List<Step> baseTree, List<Step> steps)
    {
        if (Run(settings, null, null, baseTree, steps) is { } f)
            throw new Xunit.Sdk.XunitException(f.Report("Mismatch"));
    }

    private PropertyFailure? Execute(BaseEntry[]? generatedBase, GenOp[]? generated, List<Step>? baseTree, List<Step>? concrete)
    {
        var steps = new List<Step>();
        var baseSteps = new List<Step>();
        PropertyFailure Fail(int step, string cat, string detail) =>
            new(_settings, baseSteps, steps, step, cat, detail);

        BuildBase(generatedBase, baseTree, baseSteps);
        _baseHash = TreeSnapshot.HashDirectory(_baseDir);
        CopyTree(_baseDir, _modelDir);
        try
        {
            _store = AgentStore.Create(_storePath, _baseDir, _settings.Options);
            _fs = _store.OpenFileSystem("main");
            if (Compare() is { } d0) return Fail(0, d0.Category, d0.Detail);
        }
        catch (Exception e) { return Fail(0, "exception", e.ToString()); }

        int count = generated?.Length ?? concrete!.Count;
        for (int i = 0; i < count; i++)
        {
            var step = generated != null ? Resolve(generated[i]) : concrete![i];
            steps.Add(step);
            if (Apply(step) is { } d) return Fail(i + 1, d.Category, d.Detail);
        }

        // Final checks: everything survives a flush and a reopen (read-only), the untouched base file was
        // never copied up, and the base directory did not change.
        try
        {
            var keep = Fs.GetAttributes(Operations.Untouched);
            Fs.Flush();
            long rows = _store!.Read(c =>
                (long)Store.StoreDatabase.Scalar(c, "SELECT (SELECT count(*) FROM inodes WHERE ino=$i) + (SELECT count(*) FROM chunks WHERE ino=$i)", null, ("$i", (long)keep.Ino))!);
            if (rows != 0) return Fail(count + 1, "copied-up", $"{Operations.Untouched} was only read but has {rows} rows in the store");
            _fs!.Dispose();
            _store.Dispose();
            _fs = null;
            _store = AgentStore.Open(_storePath, _settings.Options);
            _fs = _store.OpenFileSystem("main", readOnly: true);
            if (Compare() is { } d) return Fail(count + 1, "after-reopen-" + d.Category, d.Detail);
        }
        catch (Exception e) { return Fail(count + 1, "exception", e.ToString()); }
        finally { CloseStore(); }
        string after = TreeSnapshot.HashDirectory(_baseDir);
        if (after != _baseHash) return Fail(count + 1, "base-changed", "the base directory changed (hash of paths, modes, inodes, times, contents, xattrs)");
        return null;
    }

    // ---- base tree ---------------------------------------------------------------------------------

    /// <summary>Builds the base directory from generated entries (recording the concrete steps) or from
    /// concrete steps (mkdir, create, symlink, link, setxattr; failing ones are ignored).</summary>
    private void BuildBase(BaseEntry[]? entries, List<Step>? concrete, List<Step> record)
    {
        Directory.CreateDirectory(_baseDir);
        File.WriteAllBytes(_baseDir + "/" + Operations.Untouched, Step.Data(4242, 70_000 + 977));
        if (concrete != null)
        {
            foreach (var s in concrete)
                if (ApplyModel(s, _baseDir) == 0) record.Add(s);
            return;
        }
        bool Do(Step s)
        {
            if (ApplyModel(s, _baseDir) != 0) return false;
            record.Add(s);
            return true;
        }
        string B(string rel) => _baseDir + "/" + rel;
        bool EnsureParents(string rel)
        {
            string[] parts = rel.Split('/');
            string cur = "";
            for (int i = 0; i < parts.Length - 1; i++)
            {
                cur = cur.Length == 0 ? parts[i] : cur + "/" + parts[i];
                int e = ModelLibc.TryStat(B(cur), false, out var st);
                if (e == 0 && st.IsDir) continue;
                if (e != 0 && Do(new Step(OpKind.Mkdir, cur, A: 0x1ED, Flags: 1))) continue;
                return false;
            }
            return ModelLibc.TryStat(B(rel), false, out _) != 0;
        }
        List<string> Existing(Func<ModelLibc.Stat, bool> pred) =>
            TreeSnapshot.OfModel(_baseDir).Nodes.Keys.Where(k => k.Length > 0 && k != Operations.Untouched
                && ModelLibc.TryStat(B(k), false, out var st) == 0 && pred(st)).ToList();

        foreach (var be in entries!)
        {
            string path = Operations.PoolPath(be.P);
            switch (be.Kind)
            {
                case 0: // directory
                    if (EnsureParents(path)) Do(new Step(OpKind.Mkdir, path, A: Operations.DirModes[be.Mode % Operations.DirModes.Length], Flags: 1));
                    break;
                case 1: // file
                    if (!EnsureParents(path)) break;
                    long size = Operations.Size(be.Size, _settings.ChunkSize, 0);
                    if (be.Size % 3 == 0) size = Math.Min(size, 300);
                    Do(new Step(OpKind.Create, path, A: size, B: Operations.FileModes[be.Mode % Operations.FileModes.Length], Seed: be.Seed));
                    break;
                case 2: // symlink
                    if (EnsureParents(path)) Do(new Step(OpKind.Symlink, path, Operations.Targets[be.Extra % Operations.Targets.Length]));
                    break;
                case 3: // hard link to an existing base file or symlink
                {
                    var files = Existing(st => !st.IsDir);
                    if (files.Count > 0 && EnsureParents(path)) Do(new Step(OpKind.Link, path, files[be.Extra % files.Count]));
                    break;
                }
                default: // user xattr on an existing file or directory
                {
                    var all = Existing(st => !st.IsLink);
                    if (all.Count > 0)
                        Do(new Step(OpKind.SetXattr, all[be.Extra % all.Count], Operations.XattrNames[be.Mode % Operations.XattrNames.Length],
                            A: Operations.XattrLength(be.Size), Seed: be.Seed));
                    break;
                }
            }
        }
    }

    private static void CopyTree(string from, string to)
    {
        var psi = new ProcessStartInfo("cp") { RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-a");
        psi.ArgumentList.Add("--");
        psi.ArgumentList.Add(from);
        psi.ArgumentList.Add(to);
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new IOException($"cp -a {from} {to} failed: {err}");
    }

    // ---- resolution of generated operations --------------------------------------------------------

    private List<string> ExistingPaths() => _model!.Nodes.Keys.Where(k => k.Length > 0 && k != Operations.Untouched).ToList();

    /// <summary>What a path selector should prefer: any existing path (or a pool path), an existing regular
    /// file (for data operations), or a fresh name in an existing directory (for creations).</summary>
    private enum Want { Any, File, Fresh }

    private string PickPath(int sel, Want want = Want.Any, bool allowUntouched = false)
    {
        int bucket = sel % 10, idx = sel / 10;
        var existing = ExistingPaths();
        List<string> Of(char type) => existing.Where(p => _model!.Nodes[p].Type == type).ToList();
        string FromPool() => Operations.PoolPath(idx);
        string Fresh()
        {
            var dirs = _model!.Nodes.Where(kv => kv.Value.Type == 'd').Select(kv => kv.Key).ToList();
            string dir = dirs[idx % dirs.Count];
            string? collision = null;
            for (int k = 0; k < Operations.Names.Length; k++)
            {
                string name = Operations.Names[(idx / dirs.Count + k) % Operations.Names.Length];
                string p = dir.Length == 0 ? name : dir + "/" + name;
                if (!_model.Nodes.ContainsKey(p)) return p;
                collision ??= p;
            }
            return collision!;
        }
        string Existing(List<string> from) => from.Count > 0 ? from[idx % from.Count] : FromPool();
        switch (want)
        {
            case Want.File:
                if (bucket == 9 && allowUntouched) return Operations.Untouched;
                return bucket < 6 ? Existing(Of('f')) : bucket < 7 ? Existing(existing) : bucket < 9 ? Fresh() : FromPool();
            case Want.Fresh:
                return bucket < 6 ? Fresh() : bucket < 8 ? Existing(existing) : FromPool();
            default:
                return bucket < 5 ? Existing(existing) : bucket < 7 ? FromPool() : bucket < 9 ? Fresh() : Existing(Of('d'));
        }
    }

    private bool IsSymlink(string rel) => ModelLibc.TryStat(M(rel), false, out var st) == 0 && st.IsLink;
    private long ModelSize(string rel) => ModelLibc.TryStat(M(rel), false, out var st) == 0 && st.IsReg ? st.Size : 0;

    /// <summary>A path whose last component is not a symbolic link (the path API never follows a final link,
    /// Linux's truncate/chmod/open do): tries a few selections, else null.</summary>
    private string? PickNonLink(int sel, Want want = Want.Any, bool allowUntouched = false)
    {
        for (int i = 0; i < 4; i++)
        {
            string p = PickPath(sel + i * 7919, want, allowUntouched);
            if (!IsSymlink(p)) return p;
        }
        return null;
    }

    /// <summary>AGENTFS_PROPERTY_AVOID: comma-separated known library deviations not to generate, to look past them
    /// for other bugs: symlink-ancestor-renames (rename/exchange of a directory with its own ancestor or descendant
    /// named through a symbolic link),
    /// mkdir-symlinks (CreateDirectory through a symbolic link), parent-symlinks (path operations whose parent
    /// path ends in a symbolic link), empty-writes (WriteAt of 0 bytes).</summary>
    public static readonly HashSet<string> Avoid =
        (Environment.GetEnvironmentVariable("AGENTFS_PROPERTY_AVOID") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();

    private bool IsAncestorRename(string from, string to)
    {
        string? fp = ModelLibc.RealPath(M(Step.Parent(from))), tp = ModelLibc.RealPath(M(Step.Parent(to)));
        if (fp == null || tp == null) return false;
        string f = fp + "/" + Step.Name(from), t = tp + "/" + Step.Name(to);
        bool physical = (tp + "/").StartsWith(f + "/", StringComparison.Ordinal) || (fp + "/").StartsWith(t + "/", StringComparison.Ordinal);
        bool lexical = to.StartsWith(from + "/", StringComparison.Ordinal) || from.StartsWith(to + "/", StringComparison.Ordinal);
        return physical != lexical;
    }

    private bool HasSymlinkPrefix(string rel)
    {
        string[] parts = rel.Split('/');
        string cur = "";
        for (int i = 0; i < parts.Length; i++)
        {
            cur = cur.Length == 0 ? parts[i] : cur + "/" + parts[i];
            if (IsSymlink(cur)) return true;
        }
        return false;
    }

    private Step Resolve(GenOp g)
    {
        var s = ResolveCore(g);
        if (Avoid.Contains("symlink-ancestor-renames") && s.Kind == OpKind.Rename && IsAncestorRename(s.P, s.Q))
            return new Step(OpKind.Skip, $"avoided: {s}");
        if (Avoid.Contains("mkdir-symlinks") && s.Kind == OpKind.Mkdir && s.Flags == 0 && HasSymlinkPrefix(s.P))
            return new Step(OpKind.Skip, $"avoided: {s}");
        if (Avoid.Contains("empty-writes") && s.Kind == OpKind.WriteAt && s.B == 0)
            return new Step(OpKind.Skip, $"avoided: {s}");
        if (Avoid.Contains("parent-symlinks") && ParentIsSymlink(s))
            return new Step(OpKind.Skip, $"avoided: {s}");
        return s;
    }

    private bool ParentIsSymlink(Step s)
    {
        bool P(string p) => Step.Parent(p) is { Length: > 0 } parent && IsSymlink(parent);
        return s.Kind switch
        {
            OpKind.Create or OpKind.Link or OpKind.Symlink => P(s.P),
            OpKind.Remove => s.Flags == 0 && P(s.P),
            OpKind.Rename => P(s.P) || P(s.Q),
            _ => false,
        };
    }

    private Step ResolveCore(GenOp g)
    {
        int cs = _settings.ChunkSize;
        switch (g.Kind)
        {
            case OpKind.Create:
            {
                string? p = PickNonLink(g.P1, Want.File);
                if (p == null) return new Step(OpKind.Skip, "create: only symlinks picked");
                long size = Operations.Size(g.N1, cs, ModelSize(p));
                return new Step(OpKind.Create, p, A: size, B: Operations.FileModes[g.Flags % Operations.FileModes.Length], Seed: g.Seed);
            }
            case OpKind.WriteAt:
            {
                string? p = PickNonLink(g.P1, Want.File);
                if (p == null) return new Step(OpKind.Skip, "write: only symlinks picked");
                long off = Operations.Offset(g.N1, cs, ModelSize(p));
                long len = Math.Min(Operations.Length(g.N2, cs), 270_000 - off);
                return new Step(OpKind.WriteAt, p, A: off, B: len, Seed: g.Seed);
            }
            case OpKind.Truncate:
            {
                string? p = PickNonLink(g.P1, Want.File);
                if (p == null) return new Step(OpKind.Skip, "truncate: only symlinks picked");
                return new Step(OpKind.Truncate, p, A: Operations.Size(g.N1, cs, ModelSize(p)));
            }
            case OpKind.Rename:
            {
                int mode = g.Flags % 10 < 6 ? 0 : g.Flags % 10 < 8 ? 1 : 2;
                return new Step(OpKind.Rename, PickPath(g.P1), PickPath(g.P2, g.N1 % 3 == 0 ? Want.Fresh : Want.Any), Flags: mode);
            }
            case OpKind.Link:
                return new Step(OpKind.Link, PickPath(g.P2, Want.Fresh), PickPath(g.P1, Want.File));
            case OpKind.Remove:
            {
                string p = PickPath(g.P1);
                int kind = g.Flags % 3;
                if (kind != 0 && Step.Parent(p) is var parent && parent.Length > 0 && IsSymlink(parent)) kind = 0;
                return new Step(OpKind.Remove, p, Flags: kind);
            }
            case OpKind.Mkdir:
            {
                string p = PickPath(g.P1, Want.Fresh);
                int kind = g.Flags % 2;
                if (kind != 0 && Step.Parent(p) is var parent && parent.Length > 0 && IsSymlink(parent)) kind = 0;
                return new Step(OpKind.Mkdir, p, A: Operations.DirModes[g.N1 % Operations.DirModes.Length], Flags: kind);
            }
            case OpKind.Symlink:
                return new Step(OpKind.Symlink, PickPath(g.P1, Want.Fresh), Operations.Targets[g.P2 % Operations.Targets.Length]);
            case OpKind.Chmod:
            {
                string? p = PickNonLink(g.P1);
                if (p == null) return new Step(OpKind.Skip, "chmod: only symlinks picked");
                uint mode = g.Flags % 3 == 0 ? (uint)(g.N1 % 4096)
                    : g.Flags % 3 == 1 ? Operations.FileModes[g.N1 % Operations.FileModes.Length] : Operations.DirModes[g.N1 % Operations.DirModes.Length];
                return new Step(OpKind.Chmod, p, A: mode);
            }
            case OpKind.SetXattr:
            {
                string? p = PickNonLink(g.P1);
                if (p == null) return new Step(OpKind.Skip, "setxattr: only symlinks picked");
                int flags = g.Flags % 6 < 4 ? 0 : g.Flags % 6 == 4 ? 1 : 2;
                return new Step(OpKind.SetXattr, p, Operations.XattrNames[g.P2 % Operations.XattrNames.Length],
                    A: Operations.XattrLength(g.N2), Seed: g.Seed, Flags: flags);
            }
            case OpKind.RemoveXattr:
            {
                string? p = PickNonLink(g.P1);
                if (p == null) return new Step(OpKind.Skip, "removexattr: only symlinks picked");
                return new Step(OpKind.RemoveXattr, p, Operations.XattrNames[g.P2 % Operations.XattrNames.Length]);
            }
            case OpKind.ReadAt:
            {
                string? p = PickNonLink(g.P1, Want.File, allowUntouched: true);
                if (p == null) return new Step(OpKind.Skip, "read: only symlinks picked");
                long len = Operations.Length(g.N2, cs);
                return new Step(OpKind.ReadAt, p, A: Operations.Offset(g.N1, cs, ModelSize(p)), B: Math.Max(1, len));
            }
            case OpKind.Rollback:
                return _checkpoints.Count == 0 ? new Step(OpKind.Checkpoint)
                    : new Step(OpKind.Rollback, A: g.P1 % 3 == 0 ? g.P2 % _checkpoints.Count : _checkpoints.Count - 1 - g.P2 % Math.Min(2, _checkpoints.Count));
            default:
                return new Step(g.Kind);
        }
    }

    // ---- applying a step ---------------------------------------------------------------------------

    /// <summary>AGENTFS_PROPERTY_IGNORE_ERRNO=1: accept a different errno when both sides fail (neither changed anything),
    /// to look past known errno deviations for other bugs.</summary>
    public static readonly bool IgnoreErrnoDifferences = Environment.GetEnvironmentVariable("AGENTFS_PROPERTY_IGNORE_ERRNO") == "1";

    private static string E(int errno) => errno == 0 ? "success" : Errno.Name(errno);

    /// <summary>Whether a concrete step still makes sense here (replays during minimization run over other states).</summary>
    private bool Applicable(Step s) => s.Kind switch
    {
        OpKind.Skip => false,
        OpKind.Create or OpKind.WriteAt or OpKind.Truncate or OpKind.Chmod or OpKind.SetXattr or OpKind.RemoveXattr or OpKind.ReadAt => !IsSymlink(s.P),
        OpKind.Remove or OpKind.Mkdir => s.Flags == 0 || Step.Parent(s.P).Length == 0 || !IsSymlink(Step.Parent(s.P)),
        OpKind.Rollback => s.A < _checkpoints.Count,
        _ => true,
    };

    private (string Category, string Detail)? Apply(Step s)
    {
        if (!Applicable(s))
        {
            _stats?.Count(OpKind.Skip, 0);
            return null;
        }
        byte[]? modelData = null, libData = null;
        int modelErr = ApplyModel(s, _modelDir, ref modelData);
        int libErr;
        try { libErr = ApplyLibrary(s, ref libData); }
        catch (AgentFsException e) { libErr = e.Errno; }
        catch (Exception e) { return ("exception", $"the library threw {e}"); }

        _stats?.Count(s.Kind, modelErr);
        if (modelErr != libErr && !(IgnoreErrnoDifferences && modelErr != 0 && libErr != 0))
            return ("errno", $"library {E(libErr)}, model (Linux) {E(modelErr)}");
        if (modelData != null && !modelData.AsSpan().SequenceEqual(libData))
            return ("read-data", "Read returned different bytes: " + TreeSnapshot.ContentDiff(libData ?? [], modelData));
        return Compare();
    }

    private (string Category, string Detail)? Compare()
    {
        _model = TreeSnapshot.OfModel(_modelDir);
        TreeSnapshot lib;
        try { lib = TreeSnapshot.OfLibrary(Fs); }
        catch (Exception e) { return ("read-tree", $"reading the library's tree failed: {e}"); }
        return lib.FirstDifference(_model);
    }

    private int ApplyModel(Step s, string root)
    {
        byte[]? unused = null;
        return ApplyModel(s, root, ref unused);
    }

    private int ApplyModel(Step s, string root, ref byte[]? data)
    {
        string M(string rel) => Under(root, rel);
        switch (s.Kind)
        {
            case OpKind.Create: return ModelLibc.WriteFile(M(s.P), 0, Step.Data(s.Seed, s.A), true, (uint)s.B);
            case OpKind.WriteAt: return ModelLibc.WriteFile(M(s.P), s.A, Step.Data(s.Seed, s.B), false, 0);
            case OpKind.Truncate: return ModelLibc.Truncate(M(s.P), s.A);
            case OpKind.Rename:
                return ModelLibc.Rename(M(s.P), M(s.Q), s.Flags == 1 ? ModelLibc.RENAME_NOREPLACE : s.Flags == 2 ? ModelLibc.RENAME_EXCHANGE : 0);
            case OpKind.Link: return ModelLibc.Link(M(s.Q), M(s.P));
            case OpKind.Remove:
                if (s.Flags == 1) return ModelLibc.Unlink(M(s.P));
                if (s.Flags == 2) return ModelLibc.Rmdir(M(s.P));
                {
                    int e = ModelLibc.TryStat(M(s.P), false, out var st);
                    return e != 0 ? e : st.IsDir ? ModelLibc.Rmdir(M(s.P)) : ModelLibc.Unlink(M(s.P));
                }
            case OpKind.Mkdir:
                if (s.Flags == 1)
                {
                    int e = ModelLibc.Mkdir(M(s.P), 0x1C0);
                    return e != 0 ? e : ModelLibc.Chmod(M(s.P), (uint)s.A);
                }
                return MkdirP(root, s.P, (uint)s.A);
            case OpKind.Symlink: return ModelLibc.Symlink(s.Q, M(s.P));
            case OpKind.Chmod: return ModelLibc.Chmod(M(s.P), (uint)s.A);
            case OpKind.SetXattr: return ModelLibc.SetXattr(M(s.P), s.Q, Step.Data(s.Seed, s.A), s.Flags);
            case OpKind.RemoveXattr: return ModelLibc.RemoveXattr(M(s.P), s.Q);
            case OpKind.ReadAt:
            {
                int e = ModelLibc.ReadAt(M(s.P), s.A, (int)s.B, out var d);
                data = e == 0 ? d : null;
                return e;
            }
            case OpKind.Checkpoint:
            {
                string dir = _snapDir + "/" + _checkpoints.Count;
                CopyTree(_modelDir, dir);
                _checkpoints.Add((-1, dir));
                _history.Add(_checkpoints.Count - 1);
                return 0;
            }
            case OpKind.Rollback:
            {
                int k = (int)s.A;
                int at = _history.IndexOf(k);
                if (at < 0) return Errno.EINVAL; // not in the branch's history any more (rolled back past it)
                _history.RemoveRange(at + 1, _history.Count - at - 1);
                Directory.Delete(_modelDir, true);
                CopyTree(_checkpoints[k].Dir, _modelDir);
                return 0;
            }
            default: return 0;
        }
    }

    /// <summary>mkdir -p as coreutils does it (symbolic links followed everywhere; the given mode for every
    /// directory created): an existing directory is fine; after EEXIST, a non-directory is ENOTDIR in the middle
    /// and EEXIST at the end, a dangling link is EEXIST, a loop ELOOP.</summary>
    private static int MkdirP(string root, string rel, uint mode)
    {
        string M(string r) => Under(root, r);
        string[] parts = rel.Split('/');
        string cur = "";
        for (int i = 0; i < parts.Length; i++)
        {
            cur = cur.Length == 0 ? parts[i] : cur + "/" + parts[i];
            bool last = i == parts.Length - 1;
            int e = ModelLibc.Mkdir(M(cur), 0x1C0);
            if (e == 0)
            {
                ModelLibc.Chmod(M(cur), mode);
                continue;
            }
            if (e != Errno.EEXIST) return e;
            int se = ModelLibc.TryStat(M(cur), follow: true, out var st);
            if (se == Errno.ENOENT) return Errno.EEXIST;
            if (se != 0) return se;
            if (!st.IsDir) return last ? Errno.EEXIST : Errno.ENOTDIR;
        }
        return 0;
    }

    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    private int ApplyLibrary(Step s, ref byte[]? data)
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
                    if (s.Flags == 1) fs.Unlink(parent, U(Step.Name(s.P)));
                    else fs.Rmdir(parent, U(Step.Name(s.P)));
                }
                break;
            case OpKind.Mkdir:
                if (s.Flags == 1) fs.Mkdir(fs.GetAttributes(Step.Parent(s.P)).Ino, U(Step.Name(s.P)), (uint)s.A);
                else fs.CreateDirectory(s.P, (uint)s.A);
                break;
            case OpKind.Symlink: fs.CreateSymbolicLink(s.P, s.Q); break;
            case OpKind.Chmod: fs.SetMode(s.P, (uint)s.A); break;
            case OpKind.SetXattr:
                if (s.Flags == 0) fs.SetXattr(s.P, s.Q, Step.Data(s.Seed, s.A));
                else fs.SetXattr(fs.GetAttributes(s.P).Ino, s.Q, Step.Data(s.Seed, s.A), s.Flags);
                break;
            case OpKind.RemoveXattr: fs.RemoveXattr(fs.GetAttributes(s.P).Ino, s.Q); break;
            case OpKind.ReadAt:
            {
                ulong ino = fs.GetAttributes(s.P).Ino;
                var buf = new byte[s.B];
                int done = 0;
                while (done < buf.Length)
                {
                    int n = fs.Read(ino, s.A + done, buf.AsSpan(done));
                    if (n <= 0) break;
                    done += n;
                }
                data = buf[..done];
                break;
            }
            case OpKind.Checkpoint:
            {
                var info = fs.Checkpoint($"step checkpoint #{_checkpoints.Count}");
                _checkpoints[^1] = (info.Id, _checkpoints[^1].Dir);
                break;
            }
            case OpKind.Rollback: fs.Rollback(_checkpoints[(int)s.A].Id); break;
            case OpKind.Flush: fs.Flush(); break;
            case OpKind.Reopen:
                _fs!.Dispose();
                _store!.Dispose();
                _fs = null;
                _store = AgentStore.Open(_storePath, _settings.Options);
                _fs = _store.OpenFileSystem("main");
                break;
        }
        return 0;
    }

    private void CloseStore()
    {
        try { _fs?.Dispose(); } catch { }
        try { _store?.Dispose(); } catch { }
        _fs = null;
        _store = null;
    }

    public void Dispose()
    {
        CloseStore();
        try { Directory.Delete(_root, true); } catch { }
    }
}
