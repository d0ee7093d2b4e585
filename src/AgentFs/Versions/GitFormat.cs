using System.Globalization;
using System.Text;
using AgentFs.Versions;

namespace AgentFs;

/// <summary>git's short formats of a diff: <c>--name-status</c> and <c>--stat</c> lines, and path quoting.</summary>
public static class GitFormat
{
    /// <summary>A path as git prints it (core.quotePath=true): in C-style quotes when it has control
    /// characters, '"', '\\' or non-ASCII bytes; as it is otherwise.</summary>
    public static string QuotePath(ReadOnlySpan<byte> path) => GitEncoding.Quote(path);

    /// <summary>Whether git's formats show a change (not directories, special files, or permission bits git does not keep).</summary>
    public static bool IsVisibleToGit(FileChange change) => GitPatchWriter.IsVisibleToGit(change);

    /// <summary>The letter (or R100) git's --name-status gives a change.</summary>
    public static string Status(FileChange c) => c.Kind switch
    {
        ChangeKind.Added => "A",
        ChangeKind.Deleted => "D",
        ChangeKind.Renamed => "R100",
        ChangeKind.TypeChanged when c.Old!.GitMode == 0 => "A",
        ChangeKind.TypeChanged when c.New!.GitMode == 0 => "D",
        ChangeKind.TypeChanged => "T",
        _ => "M",
    };

    /// <summary>git diff --name-status: "M\tpath", "R100\told\tnew", ... for the changes git shows.</summary>
    public static IEnumerable<string> NameStatus(IEnumerable<FileChange> changes)
    {
        foreach (var c in changes)
        {
            if (!IsVisibleToGit(c)) continue;
            yield return c.Kind == ChangeKind.Renamed
                ? $"{Status(c)}\t{QuotePath(c.RawOldPath)}\t{QuotePath(c.RawPath)}"
                : $"{Status(c)}\t{QuotePath(c.RawPath)}";
        }
    }

    /// <summary>git diff --stat at a given width (git uses 80 when not on a terminal): one line per file,
    /// then " N files changed, I insertions(+), D deletions(-)".</summary>
    public static IEnumerable<string> Stat(IReadOnlyList<FileStat> stats, int width = 80)
    {
        var files = stats.Where(f => f.ShownByGit).ToList();
        if (files.Count == 0) yield break;
        var names = files.Select(f => f.Change.Kind == ChangeKind.Renamed
            ? RenameName(f.Change.RawOldPath!, f.Change.RawPath)
            : QuotePath(f.Change.RawPath)).ToList();
        long maxChange = 0;
        int maxLen = 0, binWidth = 0, numberWidth = 0;
        for (int i = 0; i < files.Count; i++)
        {
            maxLen = Math.Max(maxLen, names[i].Length);
            var f = files[i];
            if (f.IsBinary)
            {
                binWidth = Math.Max(binWidth, 14 + Digits(f.Insertions) + Digits(f.Deletions));
                numberWidth = 3;
                continue;
            }
            maxChange = Math.Max(maxChange, f.Insertions + f.Deletions);
        }
        numberWidth = Math.Max(numberWidth, Digits(maxChange));
        if (width < 16 + 6 + numberWidth) width = 16 + 6 + numberWidth;
        long graphWidth = maxChange + 4 > binWidth ? maxChange : binWidth - 4;
        long nameWidth = maxLen;
        if (nameWidth + numberWidth + 6 + graphWidth > width)
        {
            if (graphWidth > width * 3 / 8 - numberWidth - 6)
            {
                graphWidth = width * 3 / 8 - numberWidth - 6;
                if (graphWidth < 6) graphWidth = 6;
            }
            if (nameWidth > width - numberWidth - 6 - graphWidth) nameWidth = width - numberWidth - 6 - graphWidth;
            else graphWidth = width - numberWidth - 6 - nameWidth;
        }

        long adds = 0, dels = 0;
        for (int i = 0; i < files.Count; i++)
        {
            var f = files[i];
            string name = names[i], prefix = "";
            int len = (int)nameWidth;
            if (nameWidth < name.Length)
            {
                prefix = "...";
                len = Math.Max(0, len - 3);
                name = name[(name.Length - len)..];
                int slash = name.IndexOf('/');
                if (slash >= 0) name = name[slash..];
            }
            string padded = prefix + name + new string(' ', Math.Max(0, len - name.Length));
            if (f.IsBinary)
            {
                yield return f.Insertions == 0 && f.Deletions == 0
                    ? $" {padded} | {"Bin".PadLeft(numberWidth)}"
                    : $" {padded} | {"Bin".PadLeft(numberWidth)} {f.Deletions} -> {f.Insertions} bytes";
                continue;
            }
            adds += f.Insertions;
            dels += f.Deletions;
            long add = f.Insertions, del = f.Deletions, total = add + del;
            if (graphWidth <= maxChange)
            {
                long scaled = ScaleLinear(total, graphWidth, maxChange);
                if (scaled < 2 && add > 0 && del > 0) scaled = 2;
                if (add < del)
                {
                    add = ScaleLinear(add, graphWidth, maxChange);
                    del = scaled - add;
                }
                else
                {
                    del = ScaleLinear(del, graphWidth, maxChange);
                    add = scaled - del;
                }
            }
            string count = total.ToString(CultureInfo.InvariantCulture).PadLeft(numberWidth);
            yield return $" {padded} | {count}{(total > 0 ? " " : "")}{new string('+', (int)add)}{new string('-', (int)del)}";
        }
        yield return Summary(files.Count, adds, dels);
    }

    private static long ScaleLinear(long it, long width, long maxChange) => it == 0 ? 0 : 1 + it * (width - 1) / maxChange;

    private static int Digits(long n) => n.ToString(CultureInfo.InvariantCulture).Length;

    /// <summary>git's " 2 files changed, 3 insertions(+), 1 deletion(-)".</summary>
    public static string Summary(int files, long insertions, long deletions)
    {
        var sb = new StringBuilder();
        sb.Append(' ').Append(files).Append(files == 1 ? " file changed" : " files changed");
        if (insertions > 0 || deletions == 0) sb.Append(", ").Append(insertions).Append(insertions == 1 ? " insertion(+)" : " insertions(+)");
        if (deletions > 0 || insertions == 0) sb.Append(", ").Append(deletions).Append(deletions == 1 ? " deletion(-)" : " deletions(-)");
        return sb.ToString();
    }

    /// <summary>git's pprint_rename: "dir/{old => new}/file" around the common leading and trailing directories.</summary>
    internal static string RenameName(byte[] a, byte[] b)
    {
        if (GitEncoding.NeedsQuoting(a) || GitEncoding.NeedsQuoting(b)) return $"{QuotePath(a)} => {QuotePath(b)}";
        string sa = Encoding.UTF8.GetString(a), sb = Encoding.UTF8.GetString(b);
        int pfx = 0;
        for (int i = 0; i < sa.Length && i < sb.Length && sa[i] == sb[i]; i++)
            if (sa[i] == '/') pfx = i + 1;
        int sfx = 0;
        int adjust = pfx > 0 ? 1 : 0;
        for (int ia = sa.Length - 1, ib = sb.Length - 1; ia >= pfx - adjust && ib >= pfx - adjust && ia >= 0 && ib >= 0 && sa[ia] == sb[ib]; ia--, ib--)
            if (sa[ia] == '/') sfx = sa.Length - ia;
        int aMid = Math.Max(0, sa.Length - pfx - sfx), bMid = Math.Max(0, sb.Length - pfx - sfx);
        var r = new StringBuilder();
        if (pfx + sfx > 0) r.Append(sa, 0, pfx).Append('{');
        r.Append(sa, pfx, aMid).Append(" => ").Append(sb, pfx, bMid);
        if (pfx + sfx > 0) r.Append('}').Append(sa, sa.Length - sfx, sfx);
        return r.ToString();
    }
}
