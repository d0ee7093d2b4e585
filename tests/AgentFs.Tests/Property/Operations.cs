using System.Text;
using CsCheck;

namespace AgentFs.Tests.Property;

public enum OpKind
{
    Skip, Create, WriteAt, Truncate, Rename, Link, Remove, Mkdir, Symlink, Chmod, SetXattr, RemoveXattr, ReadAt,
    Checkpoint, Rollback, Flush, Reopen,
    /// <summary>Only through a mount (AgentFs.EndToEnd.Tests): dispose the AgentMount and mount the store again.</summary>
    Remount,
}

/// <summary>
/// A generated operation: selectors that are turned into a concrete <see cref="Step"/> against the model's
/// state when the operation runs (so paths usually name something that exists and collisions are frequent).
/// </summary>
public readonly record struct GenOp(OpKind Kind, int P1, int P2, int N1, int N2, int Seed, int Flags);

/// <summary>An entry of the initial base tree, resolved in order while the base directory is built.</summary>
public readonly record struct BaseEntry(int Kind, int P, int Size, int Mode, int Seed, int Extra);

/// <summary>One generated test case: the base tree and the operations.</summary>
public sealed record PropertyCase(BaseEntry[] Base, GenOp[] Ops)
{
    public override string ToString() => $"{Base.Length} base entries, {Ops.Length} operations";
}

/// <summary>
/// A concrete operation with resolved paths and numbers; replaying the same steps over the same base
/// gives the same result, so failures are minimized on these.
/// Flags: Rename 0=plain, 1=NOREPLACE, 2=EXCHANGE; Remove 0=Delete (by type), 1=Unlink, 2=Rmdir;
/// Mkdir 0=CreateDirectory (mkdir -p), 1=Mkdir; SetXattr 0=path API, 1=XATTR_CREATE, 2=XATTR_REPLACE.
/// </summary>
public sealed record Step(OpKind Kind, string P = "", string Q = "", long A = 0, long B = 0, int Seed = 0, int Flags = 0)
{
    public override string ToString() => Kind switch
    {
        OpKind.Skip => $"Skip({P})",
        OpKind.Create => $"WriteAllBytes(\"{P}\", size: {A}, mode: {Oct(B)}, seed: {Seed})",
        OpKind.WriteAt => $"WriteAt(\"{P}\", offset: {A}, length: {B}, seed: {Seed})",
        OpKind.Truncate => $"Truncate(\"{P}\", {A})",
        OpKind.Rename => Flags switch
        {
            1 => $"Move(\"{P}\", \"{Q}\", overwrite: false)  // RENAME_NOREPLACE",
            2 => $"Exchange(\"{P}\", \"{Q}\")  // RENAME_EXCHANGE",
            _ => $"Move(\"{P}\", \"{Q}\")  // rename",
        },
        OpKind.Link => $"CreateHardLink(\"{P}\", existing: \"{Q}\")",
        OpKind.Remove => Flags switch
        {
            1 => $"Unlink(parent of \"{P}\", \"{Name(P)}\")",
            2 => $"Rmdir(parent of \"{P}\", \"{Name(P)}\")",
            _ => $"Delete(\"{P}\")",
        },
        OpKind.Mkdir => Flags == 1 ? $"Mkdir(parent of \"{P}\", \"{Name(P)}\", {Oct(A)})" : $"CreateDirectory(\"{P}\", {Oct(A)})  // mkdir -p",
        OpKind.Symlink => $"CreateSymbolicLink(\"{P}\", target: \"{Q}\")",
        OpKind.Chmod => $"SetMode(\"{P}\", {Oct(A)})",
        OpKind.SetXattr => Flags switch
        {
            1 => $"SetXattr(ino of \"{P}\", \"{Q}\", {A} bytes, seed: {Seed}, XATTR_CREATE)",
            2 => $"SetXattr(ino of \"{P}\", \"{Q}\", {A} bytes, seed: {Seed}, XATTR_REPLACE)",
            _ => $"SetXattr(\"{P}\", \"{Q}\", {A} bytes, seed: {Seed})",
        },
        OpKind.RemoveXattr => $"RemoveXattr(ino of \"{P}\", \"{Q}\")",
        OpKind.ReadAt => $"Read(ino of \"{P}\", offset: {A}, length: {B})",
        OpKind.Checkpoint => "Checkpoint()",
        OpKind.Rollback => $"Rollback(checkpoint #{A + 1})",
        OpKind.Flush => "Flush()",
        OpKind.Reopen => "Reopen()  // dispose file system and store, AgentStore.Open again",
        OpKind.Remount => "Remount()  // dispose the AgentMount (durable flush, unmount), AgentMount.Mount again",
        _ => Kind.ToString(),
    };

    /// <summary>How a step of the base tree is shown.</summary>
    public string BaseString() => Kind switch
    {
        OpKind.Mkdir => $"dir     {P}/ {Oct(A)}",
        OpKind.Create => $"file    {P} {A} bytes, mode {Oct(B)}, seed {Seed}",
        OpKind.Symlink => $"symlink {P} -> {Q}",
        OpKind.Link => $"link    {P} = {Q}",
        OpKind.SetXattr => $"xattr   {P} {Q} = {A} bytes, seed {Seed}",
        _ => ToString(),
    };

    /// <summary>The step as a C# expression (target-typed new).</summary>
    public string ToCode()
    {
        var sb = new StringBuilder($"new(OpKind.{Kind}");
        if (P.Length > 0 || Q.Length > 0) sb.Append($", \"{P}\"");
        if (Q.Length > 0) sb.Append($", \"{Q}\"");
        bool mode = Kind is OpKind.Mkdir or OpKind.Chmod;
        if (A != 0) sb.Append(mode ? $", A: 0x{A:X}" : $", A: {A}");
        if (B != 0) sb.Append(Kind == OpKind.Create ? $", B: 0x{B:X}" : $", B: {B}");
        if (Seed != 0) sb.Append($", Seed: {Seed}");
        if (Flags != 0) sb.Append($", Flags: {Flags}");
        return sb.Append(')').ToString();
    }

    public static string Oct(long mode) => "0" + Convert.ToString(mode, 8);
    public static string Name(string path) => path[(path.LastIndexOf('/') + 1)..];
    public static string Parent(string path) => path.LastIndexOf('/') is var i and >= 0 ? path[..i] : "";

    /// <summary>Deterministic content for a seed.</summary>
    public static byte[] Data(int seed, long length)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }
}

/// <summary>Generators and the resolution of generated selectors against the current model state.</summary>
public static class Operations
{
    public static readonly string[] Names = ["a", "b", "c"];
    public const string Untouched = "zkeep.bin";

    /// <summary>Paths over the small alphabet, shallow ones first: a, b, c, a/a, ... c/c/c.</summary>
    public static readonly string[] Pool = BuildPool();

    private static string[] BuildPool()
    {
        var l = new List<string>(Names);
        foreach (var x in Names) foreach (var y in Names) l.Add(x + "/" + y);
        foreach (var x in Names) foreach (var y in Names) foreach (var z in Names) l.Add(x + "/" + y + "/" + z);
        return l.ToArray();
    }

    /// <summary>Relative symlink targets only (absolute ones or '..' would leave the model directory).</summary>
    public static readonly string[] Targets = ["a", "b", "c", "a/b", "b/c", "c/a", "a/b/c", ".", "zz", "b/zz", "c"];

    public static readonly uint[] FileModes = [0x1A4, 0x180, 0x1ED, 0x124, 0x1A0, 0x9ED, 0x1B6];       // 0644 0600 0755 0444 0640 04755 0666
    public static readonly uint[] DirModes = [0x1ED, 0x1C0, 0x16D, 0x3FF, 0x5ED, 0x1E8];               // 0755 0700 0555 01777 02755 0750
    public static readonly string[] XattrNames = ["user.a", "user.b", "user.c", "user.long.attribute.name"];

    /// <summary>The operation kinds the library test generates, with their weights.</summary>
    public static readonly (int Weight, OpKind Kind)[] DefaultWeights =
    [
        (12, OpKind.Create), (14, OpKind.WriteAt), (8, OpKind.Truncate), (12, OpKind.Rename), (6, OpKind.Link),
        (10, OpKind.Remove), (7, OpKind.Mkdir), (6, OpKind.Symlink), (5, OpKind.Chmod), (6, OpKind.SetXattr),
        (2, OpKind.RemoveXattr), (4, OpKind.ReadAt), (4, OpKind.Checkpoint), (3, OpKind.Rollback),
        (3, OpKind.Flush), (2, OpKind.Reopen),
    ];

    public static Gen<PropertyCase> CaseGen(int maxSteps, IReadOnlySet<OpKind>? only, (int Weight, OpKind Kind)[]? weights = null)
    {
        var kinds = (weights ?? DefaultWeights).Select(w => (w.Weight, w.Kind)).ToArray();
        if (only != null) kinds = kinds.Where(k => only.Contains(k.Item2)).ToArray();
        var kindGen = Gen.Frequency(kinds);
        var op = Gen.Select(kindGen, Gen.Int[0, 99_999], Gen.Int[0, 99_999], Gen.Int[0, 999_999], Gen.Int[0, 999_999],
            Gen.Int[0, 9_999], Gen.Int[0, 99], (k, p1, p2, n1, n2, s, f) => new GenOp(k, p1, p2, n1, n2, s, f));
        var baseKind = Gen.Frequency((6, 0), (9, 1), (3, 2), (2, 3), (3, 4));
        var entry = Gen.Select(baseKind, Gen.Int[0, 99_999], Gen.Int[0, 999_999], Gen.Int[0, 99], Gen.Int[0, 9_999], Gen.Int[0, 99_999],
            (k, p, size, mode, seed, extra) => new BaseEntry(k, p, size, mode, seed, extra));
        return Gen.Select(entry.Array[0, 16], op.Array[Math.Max(1, maxSteps / 2), maxSteps], (b, o) => new PropertyCase(b, o));
    }

    /// <summary>A pool path, shallow ones more often.</summary>
    public static string PoolPath(int sel)
    {
        int r = sel % 10, i = sel / 10;
        return r < 5 ? Pool[i % 3] : r < 8 ? Pool[3 + i % 9] : Pool[12 + i % 27];
    }

    /// <summary>A size: 0, small, around chunk boundaries (of the store's chunk size and of 4 KiB), or up to ~150 KB.</summary>
    public static long Size(int sel, int chunk, long current)
    {
        int m = sel % 8, v = sel / 8;
        long unit = v % 2 == 0 ? chunk : 4096;
        long s = m switch
        {
            0 => 0,
            1 => 1 + v % 100,
            2 => 1 + v % 5000,
            3 => (1 + (v / 2) % 3) * unit + (v / 8) % 7 - 3,
            4 => v % 150_000,
            5 => current + (v % 9) - 4,
            6 => current / 2,
            _ => current + 4096 * ((v / 2) % 3) + v % 5000,
        };
        return Math.Clamp(s, 0, 199_999);
    }

    public static long Offset(int sel, int chunk, long current)
    {
        int m = sel % 6, v = sel / 6;
        long unit = v % 2 == 0 ? chunk : 4096;
        long o = m switch
        {
            0 => v % 200_000,
            1 => ((v / 2) % 4) * unit + (v / 8) % 7 - 3,
            2 => current + (v % 9) - 4,
            3 => v % 64,
            4 => current + 4096 * ((v / 2) % 3) + v % 5000, // past the end: a hole
            _ => current,
        };
        return Math.Clamp(o, 0, 199_999);
    }

    public static long Length(int sel, int chunk)
    {
        int m = sel % 5, v = sel / 5;
        long l = m switch
        {
            0 => 1 + v % 16,
            1 => 1 + v % 5000,
            2 => chunk + v % 7 - 3,
            3 => 1 + v % 70_000,
            _ => v % 13 == 0 ? 0 : 1 + v % 300,
        };
        return Math.Max(0, l);
    }

    public static int XattrLength(int sel) => (sel % 5) switch
    {
        0 => 0,
        1 => 1 + sel / 5 % 16,
        2 => 17 + sel / 5 % 280,
        3 => 300 + sel / 5 % 300,
        _ => 1 + sel / 5 % 8,
    };

    public static string Describe(IEnumerable<Step> steps, int failing = -1, Func<Step, string>? describe = null)
    {
        var sb = new StringBuilder();
        int i = 0;
        foreach (var s in steps)
        {
            i++;
            sb.Append($"  {i,3}. {(describe ?? (x => x.ToString()))(s)}");
            if (i == failing) sb.Append("   <-- FAILS");
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
