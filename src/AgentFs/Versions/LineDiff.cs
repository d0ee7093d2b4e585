using System.Runtime.InteropServices;

namespace AgentFs.Versions;

/// <summary>
/// Lines of a file: byte ranges, each with its '\n' except possibly the last (a file that does not end
/// with a newline). Equal lines get equal ids, so the diff compares ints.
/// </summary>
internal readonly struct Lines
{
    public readonly byte[] Data;
    public readonly int[] Start;   // Count + 1 entries: line i is [Start[i], Start[i + 1])
    public readonly int[] Ids;

    public Lines(byte[] data, int[] start, int[] ids)
    {
        Data = data;
        Start = start;
        Ids = ids;
    }

    public int Count => Ids.Length;
    public ReadOnlySpan<byte> this[int i] => Data.AsSpan(Start[i], Start[i + 1] - Start[i]);
    public bool EndsWithNewline(int i) => Start[i + 1] > Start[i] && Data[Start[i + 1] - 1] == '\n';

    /// <summary>Splits both sides into lines, giving identical lines (bytes and newline) the same id.</summary>
    /// <param name="ignoreNewline">Compare lines without their '\n', so a last line that lacks one equals the same
    /// line with it (Agent Trace: adding the final newline does not make the line new). Patches keep it (git does).</param>
    public static (Lines Old, Lines New) Split(byte[] a, byte[] b, bool ignoreNewline = false)
    {
        var ids = new Dictionary<LineKey, int>();
        return (Make(a, ids, ignoreNewline), Make(b, ids, ignoreNewline));
    }

    private static Lines Make(byte[] data, Dictionary<LineKey, int> ids, bool ignoreNewline)
    {
        var starts = new List<int> { 0 };
        int pos = 0;
        while (pos < data.Length)
        {
            int nl = data.AsSpan(pos).IndexOf((byte)'\n');
            pos = nl < 0 ? data.Length : pos + nl + 1;
            starts.Add(pos);
        }
        var lineIds = new int[starts.Count - 1];
        for (int i = 0; i < lineIds.Length; i++)
        {
            int length = starts[i + 1] - starts[i];
            if (ignoreNewline && data[starts[i + 1] - 1] == '\n') length--;
            var key = new LineKey(data, starts[i], length);
            ref int id = ref CollectionsMarshal.GetValueRefOrAddDefault(ids, key, out bool exists);
            if (!exists) id = ids.Count;
            lineIds[i] = id;
        }
        return new Lines(data, starts.ToArray(), lineIds);
    }

    private readonly struct LineKey : IEquatable<LineKey>
    {
        private readonly byte[] _data;
        private readonly int _start, _length, _hash;

        public LineKey(byte[] data, int start, int length)
        {
            _data = data;
            _start = start;
            _length = length;
            var h = new HashCode();
            h.AddBytes(data.AsSpan(start, length));
            _hash = h.ToHashCode();
        }

        public bool Equals(LineKey o) => _hash == o._hash && _data.AsSpan(_start, _length).SequenceEqual(o._data.AsSpan(o._start, o._length));
        public override bool Equals(object? obj) => obj is LineKey k && Equals(k);
        public override int GetHashCode() => _hash;
    }
}

/// <summary>One run of changed lines: Deleted lines of the old side from OldStart, Inserted lines of the new side from NewStart.</summary>
internal readonly record struct LineChange(int OldStart, int Deleted, int NewStart, int Inserted);

/// <summary>
/// Myers' O(ND) difference algorithm in linear space (divide at the middle snake), as git's xdiff does it,
/// with xdiff's cost cap: when the search costs more than about sqrt(N+M) (at least 256) it splits at
/// the furthest-reaching diagonal instead, so a huge, mostly different pair of files stays fast at the
/// price of a diff that is correct but not minimal.
/// </summary>
internal static class LineDiff
{
    public static List<LineChange> Compute(int[] a, int[] b)
    {
        var removed = new bool[a.Length];
        var added = new bool[b.Length];
        int n = a.Length, m = b.Length;
        var kvdf = new int[n + m + 3];
        var kvdb = new int[n + m + 3];
        int offset = m + 1;
        long mxcost = Math.Max(256, BogoSqrt(n + m + 3));
        var stack = new Stack<(int Off1, int Lim1, int Off2, int Lim2)>();
        stack.Push((0, n, 0, m));
        while (stack.Count > 0)
        {
            var (off1, lim1, off2, lim2) = stack.Pop();
            while (off1 < lim1 && off2 < lim2 && a[off1] == b[off2]) { off1++; off2++; }
            while (off1 < lim1 && off2 < lim2 && a[lim1 - 1] == b[lim2 - 1]) { lim1--; lim2--; }
            if (off1 == lim1)
            {
                for (int j = off2; j < lim2; j++) added[j] = true;
                continue;
            }
            if (off2 == lim2)
            {
                for (int i = off1; i < lim1; i++) removed[i] = true;
                continue;
            }
            var (s1, s2) = Split(a, b, off1, lim1, off2, lim2, kvdf, kvdb, offset, mxcost);
            stack.Push((s1, lim1, s2, lim2));
            stack.Push((off1, s1, off2, s2));
        }
        return Script(removed, added);
    }

    /// <summary>For each line of the new side, the line of the old side it is matched to, or -1 when the diff
    /// calls it inserted (added or changed). Matches keep the order of both sides.</summary>
    public static int[] Align(Lines old, Lines now)
    {
        var map = new int[now.Count];
        int i = 0, j = 0;
        foreach (var change in Compute(old.Ids, now.Ids))
        {
            while (j < change.NewStart) map[j++] = i++;
            i += change.Deleted;
            for (int k = 0; k < change.Inserted; k++) map[j++] = -1;
        }
        while (j < map.Length) map[j++] = i++;
        return map;
    }

    /// <summary>xdiff's integer square root approximation.</summary>
    private static long BogoSqrt(long n)
    {
        long i = 1;
        for (; n > 0; n >>= 2) i <<= 1;
        return i;
    }

    /// <summary>xdiff's xdl_split: the point where a shortest edit path of the box crosses its middle
    /// diagonal (or, past the cost cap, a good split found so far).</summary>
    private static (int, int) Split(int[] a, int[] b, int off1, int lim1, int off2, int lim2, int[] kvdf, int[] kvdb, int o, long mxcost)
    {
        int dmin = off1 - lim2, dmax = lim1 - off2;
        int fmid = off1 - off2, bmid = lim1 - lim2;
        bool odd = ((fmid - bmid) & 1) != 0;
        int fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;
        kvdf[fmid + o] = off1;
        kvdb[bmid + o] = lim1;
        for (long ec = 1; ; ec++)
        {
            // Forward: extend each diagonal's furthest point by one edit, then along the snake.
            if (fmin > dmin) kvdf[--fmin - 1 + o] = -1; else ++fmin;
            if (fmax < dmax) kvdf[++fmax + 1 + o] = -1; else --fmax;
            for (int d = fmax; d >= fmin; d -= 2)
            {
                int i1 = kvdf[d - 1 + o] >= kvdf[d + 1 + o] ? kvdf[d - 1 + o] + 1 : kvdf[d + 1 + o];
                int i2 = i1 - d;
                while (i1 < lim1 && i2 < lim2 && a[i1] == b[i2]) { i1++; i2++; }
                kvdf[d + o] = i1;
                if (odd && bmin <= d && d <= bmax && kvdb[d + o] <= i1) return (i1, i2);
            }
            // Backward, from the bottom-right corner.
            if (bmin > dmin) kvdb[--bmin - 1 + o] = int.MaxValue; else ++bmin;
            if (bmax < dmax) kvdb[++bmax + 1 + o] = int.MaxValue; else --bmax;
            for (int d = bmax; d >= bmin; d -= 2)
            {
                int i1 = kvdb[d - 1 + o] < kvdb[d + 1 + o] ? kvdb[d - 1 + o] : kvdb[d + 1 + o] - 1;
                int i2 = i1 - d;
                while (i1 > off1 && i2 > off2 && a[i1 - 1] == b[i2 - 1]) { i1--; i2--; }
                kvdb[d + o] = i1;
                if (!odd && fmin <= d && d <= fmax && i1 <= kvdf[d + o]) return (i1, i2);
            }
            if (ec >= mxcost)
            {
                long fbest = -1, fbest1 = -1;
                for (int d = fmax; d >= fmin; d -= 2)
                {
                    long i1 = Math.Min(kvdf[d + o], lim1), i2 = i1 - d;
                    if (lim2 < i2) { i1 = lim2 + d; i2 = lim2; }
                    if (fbest < i1 + i2) { fbest = i1 + i2; fbest1 = i1; }
                }
                long bbest = long.MaxValue, bbest1 = long.MaxValue;
                for (int d = bmax; d >= bmin; d -= 2)
                {
                    long i1 = Math.Max(off1, kvdb[d + o]), i2 = i1 - d;
                    if (i2 < off2) { i1 = off2 + d; i2 = off2; }
                    if (i1 + i2 < bbest) { bbest = i1 + i2; bbest1 = i1; }
                }
                return (long)lim1 + lim2 - bbest < fbest - ((long)off1 + off2)
                    ? ((int)fbest1, (int)(fbest - fbest1))
                    : ((int)bbest1, (int)(bbest - bbest1));
            }
        }
    }

    /// <summary>Runs of removed/added lines; unmarked lines pair up in order (they are the common subsequence).</summary>
    private static List<LineChange> Script(bool[] removed, bool[] added)
    {
        var changes = new List<LineChange>();
        int i = 0, j = 0;
        while (i < removed.Length || j < added.Length)
        {
            if ((i < removed.Length && removed[i]) || (j < added.Length && added[j]))
            {
                int si = i, sj = j;
                while (i < removed.Length && removed[i]) i++;
                while (j < added.Length && added[j]) j++;
                changes.Add(new LineChange(si, i - si, sj, j - sj));
            }
            else
            {
                i++;
                j++;
            }
        }
        return changes;
    }
}
