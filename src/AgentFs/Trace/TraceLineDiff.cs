namespace AgentFs;

/// <summary>
/// A small line diff for Agent Trace: which lines of a new text match lines of an old one, and so which
/// lines are added (new or changed). Lines are split on '\n' (a last line without one counts). Common leading
/// and trailing lines are matched first; the middle is Myers' O(ND) greedy diff, which finds a shortest edit
/// script, so the lines it calls added are as few as any line diff would call them. When the middles differ
/// by more than <see cref="MaxEditDistance"/> lines, the whole new middle is called added (cost stays bounded).
/// </summary>
internal static class TraceLineDiff
{
    public const int MaxEditDistance = 2048;

    /// <summary>A line: where it starts in its text, its length without the '\n', and a hash of it.</summary>
    public readonly record struct Line(int Start, int Length, ulong Hash);

    public static Line[] SplitLines(ReadOnlySpan<byte> text)
    {
        var lines = new List<Line>();
        int start = 0;
        while (start < text.Length)
        {
            int nl = text[start..].IndexOf((byte)'\n');
            int len = nl < 0 ? text.Length - start : nl;
            lines.Add(new Line(start, len, Hash(text.Slice(start, len))));
            start += len + 1;
        }
        return lines.ToArray();
    }

    private static ulong Hash(ReadOnlySpan<byte> s)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in s) h = (h ^ b) * 1099511628211UL;
        return h;
    }

    /// <summary>The 0-based indexes of the lines of newText that are not matched to a line of oldText, ascending.</summary>
    public static List<int> AddedLines(byte[] oldText, byte[] newText)
    {
        var map = Align(oldText, SplitLines(oldText), newText, SplitLines(newText));
        var added = new List<int>();
        for (int j = 0; j < map.Length; j++)
            if (map[j] < 0) added.Add(j);
        return added;
    }

    /// <summary>For each line of the new text, the index of the old line it is matched to, or -1 when it is added.
    /// Matches never cross (they keep the order of both texts).</summary>
    public static int[] Align(byte[] oldText, Line[] a, byte[] newText, Line[] b)
    {
        bool Same(int i, int j) => a[i].Hash == b[j].Hash &&
            oldText.AsSpan(a[i].Start, a[i].Length).SequenceEqual(newText.AsSpan(b[j].Start, b[j].Length));

        var map = new int[b.Length];
        Array.Fill(map, -1);
        int lo = 0, aEnd = a.Length, bEnd = b.Length;
        while (lo < aEnd && lo < bEnd && Same(lo, lo)) { map[lo] = lo; lo++; }
        while (aEnd > lo && bEnd > lo && Same(aEnd - 1, bEnd - 1)) { aEnd--; bEnd--; map[bEnd] = aEnd; }
        int n = aEnd - lo, m = bEnd - lo;
        if (n > 0 && m > 0) Myers(n, m, (i, j) => Same(lo + i, lo + j), (i, j) => map[lo + j] = lo + i);
        return map;
    }

    /// <summary>
    /// Myers' greedy algorithm over x in [0, n) of the old lines and y in [0, m) of the new ones: V[k] is the
    /// furthest x reached on diagonal k = x - y after d edits; a copy of V per d is kept to walk the path
    /// back, reporting each diagonal step (a matched pair). Reports nothing when more than
    /// <see cref="MaxEditDistance"/> edits would be needed.
    /// </summary>
    private static void Myers(int n, int m, Func<int, int, bool> same, Action<int, int> match)
    {
        int max = Math.Min(n + m, MaxEditDistance);
        int offset = max + 1;
        var v = new int[2 * max + 3];
        var trace = new List<int[]>();
        int found = -1;
        for (int d = 0; d <= max && found < 0; d++)
        {
            for (int k = -d; k <= d; k += 2)
            {
                int x = k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1])
                    ? v[offset + k + 1]          // down: a line of the new text is inserted
                    : v[offset + k - 1] + 1;     // right: a line of the old text is deleted
                int y = x - k;
                while (x < n && y < m && same(x, y)) { x++; y++; }
                v[offset + k] = x;
                if (x >= n && y >= m) { found = d; break; }
            }
            trace.Add(v[(offset - d)..(offset + d + 1)]); // V after d edits, indexed by k + d
        }
        if (found < 0) return;

        int cx = n, cy = m;
        for (int d = found; d > 0; d--)
        {
            var prev = trace[d - 1];
            int k = cx - cy;
            int P(int kk) => prev[kk + d - 1];
            bool down = k == -d || (k != d && P(k - 1) < P(k + 1));
            int pk = down ? k + 1 : k - 1;
            int px = P(pk), py = px - pk;
            int sx = down ? px : px + 1, sy = down ? py + 1 : py; // where the edit ends and the snake begins
            for (int x = sx, y = sy; x < cx; x++, y++) match(x, y);
            cx = px;
            cy = py;
        }
        for (int x = 0; x < cx; x++) match(x, x); // the snake of d = 0
    }

    /// <summary>Ascending 0-based line indexes as 1-based inclusive ranges.</summary>
    public static List<(int Start, int End)> ToRanges(IReadOnlyList<int> lines)
    {
        var ranges = new List<(int, int)>();
        for (int i = 0; i < lines.Count;)
        {
            int j = i;
            while (j + 1 < lines.Count && lines[j + 1] == lines[j] + 1) j++;
            ranges.Add((lines[i] + 1, lines[j] + 1));
            i = j + 1;
        }
        return ranges;
    }
}
