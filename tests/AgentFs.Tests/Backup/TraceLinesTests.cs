using System.Text;
using CsCheck;

namespace AgentFs.Tests.Backup;

public class TraceLineDiffTests
{
    private static byte[] Text(IEnumerable<string> lines) => Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));

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
            byte[] ta = Text(a), tb = Text(b);
            var map = TraceLineDiff.Align(ta, TraceLineDiff.SplitLines(ta), tb, TraceLineDiff.SplitLines(tb));
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
        Assert.Equal(new[] { 0, 2, 5 }, TraceLineDiff.AddedLines(old, now));
        Assert.Equal(new[] { (1, 1), (3, 3), (6, 6) }, TraceLineDiff.ToRanges(TraceLineDiff.AddedLines(old, now)));
        Assert.Empty(TraceLineDiff.AddedLines(old, "one\nthree\n"u8.ToArray()));
        Assert.Equal(new[] { 0, 1 }, TraceLineDiff.AddedLines([], "a\r\nb\r\n"u8.ToArray()));
        Assert.Equal(new[] { (1, 4) }, TraceLineDiff.ToRanges([0, 1, 2, 3]));
    }

    [Fact]
    public void Beyond_the_edit_limit_the_whole_changed_middle_is_added()
    {
        var a = Enumerable.Range(0, 5000).Select(i => $"old {i}").Prepend("head").Append("tail").ToArray();
        var b = Enumerable.Range(0, 5000).Select(i => $"new {i}").Prepend("head").Append("tail").ToArray();
        var added = TraceLineDiff.AddedLines(Text(a), Text(b));
        Assert.Equal(Enumerable.Range(1, 5000), added);
    }
}
