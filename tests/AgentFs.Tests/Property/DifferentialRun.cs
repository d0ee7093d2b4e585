using System.Diagnostics;
using System.Text;

namespace AgentFs.Tests.Property;

/// <summary>
/// The system under test of a differential run and its parameters: the library's path API
/// (<c>RunSettings</c>, AgentFs.Tests) or a FUSE mount driven with the model's own libc calls
/// (<c>MountSettings</c>, AgentFs.EndToEnd.Tests).
/// </summary>
public abstract record DifferentialSettings(int ChunkSize)
{
    /// <summary>How reports name the system under test ("library").</summary>
    public abstract string TargetName { get; }

    /// <summary>The test project, for the replay command a failure prints.</summary>
    public abstract string TestProject { get; }

    /// <summary>These settings as a C# expression, for the regression test a failure prints.</summary>
    public abstract string ToCode();

    public abstract IDifferentialTarget CreateTarget();

    /// <summary>How a step is shown in reports.</summary>
    public virtual string Describe(Step s) => s.ToString();

    /// <summary>The operation kinds generated and their weights.</summary>
    public virtual (int Weight, OpKind Kind)[] Weights => Operations.DefaultWeights;

    public abstract override string ToString();
}

/// <summary>
/// The system under test: a store over the base directory, changed by the steps; the run compares its errnos
/// and its tree with the model's. An <see cref="AgentFsException"/> thrown by Apply, Checkpoint or Rollback is
/// the step's result (its errno); any other exception is a failure.
/// </summary>
public interface IDifferentialTarget : IDisposable
{
    /// <summary>Creates the store at storePath over baseDir and opens it (workDir: a scratch directory of the run).</summary>
    void Start(string baseDir, string storePath, string workDir);

    /// <summary>Applies a step other than Checkpoint and Rollback: 0 or the errno; data: what a ReadAt read.</summary>
    int Apply(Step s, ref byte[]? data);

    /// <summary>Seals the branch's state; returns the checkpoint's id.</summary>
    long Checkpoint(string message);

    void Rollback(long checkpointId);

    /// <summary>The whole observable tree. model: the model's tree at this point, only for a target that must
    /// prepare itself to look past a known deviation (AGENTFS_PROPERTY_AVOID); never to fill its own snapshot.</summary>
    TreeSnapshot Snapshot(TreeSnapshot model);

    /// <summary>After the last step: what must hold once everything is closed and opened again (compared with
    /// the model's final tree); the first difference as (category, detail), or null.</summary>
    (string Category, string Detail)? Finish(TreeSnapshot model);
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

/// <summary>A mismatch between the system under test (the library, or a mount of it) and the model.</summary>
public sealed record PropertyFailure(DifferentialSettings Settings, List<Step> BaseTree, List<Step> Steps,
    int FailingStep, string Category, string Detail)
{
    /// <summary>What minimization keeps: the kind of the failing operation and the kind of difference.</summary>
    public string Signature => (FailingStep == 0 ? "initial" : FailingStep > Steps.Count ? "final" : Steps[FailingStep - 1].Kind.ToString()) + "/" + Category;

    public string Report(string title)
    {
        var sb = new StringBuilder();
        string where = FailingStep == 0 ? "before the first operation (the overlay of the base tree)"
            : FailingStep > Steps.Count ? "in the final checks"
            : $"at step {FailingStep} of {Steps.Count}: {Settings.Describe(Steps[FailingStep - 1])}";
        sb.Append($"{title}: {Settings.TargetName} and model differ {where} ({Settings})\n");
        sb.Append($"  [{Category}] {Detail.Replace("\n", "\n  ")}\n");
        sb.Append("Base tree (the store overlays it; the model started as cp -a of it):\n");
        sb.Append($"    file    {Operations.Untouched} (never touched by operations)\n");
        foreach (var b in BaseTree) sb.Append("    ").Append(b.BaseString()).Append('\n');
        sb.Append("Operations (paths relative to the root):\n");
        sb.Append(Operations.Describe(FailingStep > Steps.Count ? Steps : Steps.Take(Math.Max(FailingStep, 0)), FailingStep, Settings.Describe));
        return sb.ToString();
    }

    /// <summary>The case as C# for a regression test (see DifferentialReproTests).</summary>
    public string Code()
    {
        var steps = FailingStep > Steps.Count ? Steps : Steps.Take(Math.Max(FailingStep, 0)).ToList();
        return $"DifferentialRun.AssertSame({Settings.ToCode()},\n" +
               $"    baseTree: [{string.Join(", ", BaseTree.Select(b => b.ToCode()))}],\n" +
               $"    steps: [{string.Join(", ", steps.Select(b => b.ToCode()))}]);";
    }
}

/// <summary>
/// Runs one case against the system under test (a store over a base directory: the library, or a FUSE mount of
/// it, see <see cref="DifferentialSettings"/>) and against a model (a real directory that starts as a copy of
/// the base), comparing each operation's errno and then the whole observable tree.
/// </summary>
public sealed class DifferentialRun : IDisposable
{
    private readonly DifferentialSettings _settings;
    private readonly string _root, _baseDir, _modelDir, _storePath, _snapDir;
    private readonly List<string> _baseDescription = [];
    private readonly List<(long Id, string Dir)> _checkpoints = [];
    private readonly List<int> _history = [];
    private RunStats? _stats;
    private IDifferentialTarget? _target;
    private TreeSnapshot? _model;
    private string _baseHash = "";

    private DifferentialRun(DifferentialSettings settings)
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

    private IDifferentialTarget Target => _target!;
    private string M(string rel) => rel.Length == 0 ? _modelDir : _modelDir + "/" + rel;

    /// <summary>Runs a generated case (base entries and operations resolved against the state as it goes) or,
    /// with baseTree and steps, a concrete one.</summary>
    public static PropertyFailure? Run(DifferentialSettings settings, BaseEntry[]? generatedBase, GenOp[]? generated,
        List<Step>? baseTree = null, List<Step>? steps = null, RunStats? stats = null)
    {
        using var run = new DifferentialRun(settings) { _stats = stats };
        return run.Execute(generatedBase, generated, baseTree, steps);
    }

    /// <summary>For regression tests: runs a concrete case and fails with the report when the system under test and Linux differ.</summary>
    public static void AssertSame(DifferentialSettings settings, List<Step> baseTree, List<Step> steps)
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
            _target = _settings.CreateTarget();
            _target.Start(_baseDir, _storePath, _root);
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

        // Final checks: everything survives the target's own flush and reopen (IDifferentialTarget.Finish), and
        // the base directory did not change.
        try
        {
            _model = TreeSnapshot.OfModel(_modelDir);
            if (Target.Finish(_model) is { } d) return Fail(count + 1, d.Category, d.Detail);
        }
        catch (Exception e) { return Fail(count + 1, "exception", e.ToString()); }
        finally { CloseTarget(); }
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
    /// path ends in a symbolic link), empty-writes (WriteAt of 0 bytes); through a mount (AgentFs.EndToEnd.Tests):
    /// readdirplus-unlooked (look every path up before listing), passthrough-release-race (retry an open for
    /// writing that fails with ETXTBSY), see MountTarget.</summary>
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
        string name = _settings.TargetName;
        byte[]? modelData = null, libData = null;
        int modelErr = ApplyModel(s, _modelDir, ref modelData);
        int libErr;
        try { libErr = ApplyTarget(s, ref libData); }
        catch (AgentFsException e) { libErr = e.Errno; }
        catch (Exception e) { return ("exception", $"the {name} threw {e}"); }

        _stats?.Count(s.Kind, modelErr);
        if (modelErr != libErr && !(IgnoreErrnoDifferences && modelErr != 0 && libErr != 0))
            return ("errno", $"{name} {E(libErr)}, model (Linux) {E(modelErr)}");
        if (modelData != null && !modelData.AsSpan().SequenceEqual(libData))
            return ("read-data", "Read returned different bytes: " + TreeSnapshot.ContentDiff(libData ?? [], modelData));
        return Compare();
    }

    private (string Category, string Detail)? Compare()
    {
        _model = TreeSnapshot.OfModel(_modelDir);
        TreeSnapshot lib;
        try { lib = Target.Snapshot(_model); }
        catch (Exception e) { return ("read-tree", $"reading the {_settings.TargetName}'s tree failed: {e}"); }
        return lib.FirstDifference(_model, _settings.TargetName);
    }

    private int ApplyModel(Step s, string root)
    {
        byte[]? unused = null;
        return ApplyModel(s, root, ref unused);
    }

    /// <summary>The step on the model: libc calls (<see cref="LibcSteps"/>); a checkpoint is a cp -a copy of the
    /// model, a rollback restores one.</summary>
    private int ApplyModel(Step s, string root, ref byte[]? data)
    {
        switch (s.Kind)
        {
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
            default: return LibcSteps.Apply(s, root, ref data);
        }
    }

    private int ApplyTarget(Step s, ref byte[]? data)
    {
        switch (s.Kind)
        {
            case OpKind.Checkpoint:
            {
                long id = Target.Checkpoint($"step checkpoint #{_checkpoints.Count}");
                _checkpoints[^1] = (id, _checkpoints[^1].Dir);
                return 0;
            }
            case OpKind.Rollback:
                Target.Rollback(_checkpoints[(int)s.A].Id);
                return 0;
            default: return Target.Apply(s, ref data);
        }
    }

    private void CloseTarget()
    {
        try { _target?.Dispose(); } catch { }
        _target = null;
    }

    public void Dispose()
    {
        CloseTarget();
        try { Directory.Delete(_root, true); } catch { }
    }
}
