using System.Text;
using AgentFs.Versions;
using CsCheck;

namespace AgentFs.Tests.Trace;

/// <summary>Which lines the trace calls added: the diff engine's alignment (<see cref="LineDiff.Align"/>) over lines
/// compared without their newline.</summary>
public class TraceLinesTests
{
    private static byte[] Text(IEnumerable<string> lines) => Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));

    private static int[] Align(byte[] old, byte[] now)
    {
        var (a, b) = Lines.Split(old, now, ignoreNewline: true);
        return LineDiff.Align(a, b);
    }

    private static int[] AddedLines(byte[] old, byte[] now) => [.. Align(old, now).Select((to, j) => (to, j)).Where(p => p.to < 0).Select(p => p.j)];

    private static int Lcs(string[] a, string[] b)
    {
        var dp = new int[a.Length + 1, b.Length + 1];
        for (int i = a.Length - 1; i >= 0; i--)
            for (int j = b.Length - 1; j >= 0; j--)
                dp[i, j] = a[i] == b[j] ? dp[i + 1, j + 1] + 1 : Math.Max(dp[i + 1, j], dp[i, j + 1]);
        return dp[0, 0];
    }

    [Fact]
    public void Align_matches_a_longest_common_subsequence_in_order_of_equal_lines()
    {
        string[] alphabet = ["a", "b", "c", "d", "", "e f"];
        var line = Gen.Int[0, alphabet.Length - 1].Select(i => alphabet[i]);
        Gen.Select(line.Array[0, 30], line.Array[0, 30]).Sample((a, b) =>
        {
            var map = Align(Text(a), Text(b));
            Assert.Equal(b.Length, map.Length);
            int last = -1, matched = 0;
            for (int j = 0; j < map.Length; j++)
            {
                if (map[j] < 0) continue;
                Assert.True(map[j] > last, "matches cross");
                Assert.Equal(a[map[j]], b[j]);
                last = map[j];
                matched++;
            }
            Assert.Equal(Lcs(a, b), matched);
        }, iter: 3000);
    }

    [Fact]
    public void Added_lines_are_the_new_and_changed_ones()
    {
        byte[] old = "one\ntwo\nthree\nfour\n"u8.ToArray();
        byte[] now = "zero\none\nTWO\nthree\nfour\nfive"u8.ToArray(); // last line without newline counts
        Assert.Equal(new[] { 0, 2, 5 }, AddedLines(old, now));
        Assert.Equal(new[] { (1, 1), (3, 3), (6, 6) }, TraceBuilder.ToRanges(AddedLines(old, now)));
        Assert.Empty(AddedLines(old, "one\nthree\n"u8.ToArray()));
        Assert.Equal(new[] { 0, 1 }, AddedLines([], "a\r\nb\r\n"u8.ToArray()));
        Assert.Equal(new[] { (1, 4) }, TraceBuilder.ToRanges([0, 1, 2, 3]));
    }

    [Fact]
    public void Ending_the_last_line_with_a_newline_does_not_make_it_added()
    {
        Assert.Equal(new[] { 2 }, AddedLines("a\nb"u8.ToArray(), "a\nb\nc\n"u8.ToArray()));
        Assert.Empty(AddedLines("a\nb\n"u8.ToArray(), "a\nb"u8.ToArray()));
        // A patch keeps git's view: there the last line changed.
        var (x, y) = Lines.Split("a\nb"u8.ToArray(), "a\nb\nc\n"u8.ToArray());
        Assert.Equal(new[] { 0, -1, -1 }, LineDiff.Align(x, y));
    }

    [Fact]
    public void A_wholly_changed_middle_is_all_added_and_stays_fast()
    {
        var a = Enumerable.Range(0, 5000).Select(i => $"old {i}").Prepend("head").Append("tail").ToArray();
        var b = Enumerable.Range(0, 5000).Select(i => $"new {i}").Prepend("head").Append("tail").ToArray();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var added = AddedLines(Text(a), Text(b));
        Assert.Equal(Enumerable.Range(1, 5000), added);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }
}
