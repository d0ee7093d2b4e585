using System.Globalization;
using System.Text;

namespace AgentFs.Versions;

/// <summary>
/// Writes changes in git's patch format, as <c>git diff --full-index --binary</c> does, so that
/// <c>git apply</c> reproduces them on a copy of the older state:
///
///   diff --git a/P b/P                 (names quoted the way git quotes them)
///   new file mode 100644 | deleted file mode 100755 | old mode M / new mode N
///   similarity index 100% / rename from A / rename to B            (renames of identical content)
///   index OLDSHA1..NEWSHA1[ MODE]      (full blob ids; omitted when the content is the same)
///   --- a/P / +++ b/P (or /dev/null)   then hunks with 3 lines of context, "\ No newline at end of file"
///   GIT binary patch / literal N / base85 zlib lines     (a file with a NUL byte; forward and reverse)
///
/// Symlinks are mode 120000 with the target as content. A change git cannot express (directories,
/// fifos, sockets, devices, permission bits other than the owner's x bit) is left out and counted in
/// the summary. A file that turns into a symlink is a deletion and an addition at the same path.
/// </summary>
internal sealed class GitPatchWriter
{
    private readonly DiffSession _session;
    private readonly bool _binary;
    private readonly int _context;

    public GitPatchWriter(DiffSession session, bool binaryPatches, int contextLines)
    {
        _session = session;
        _binary = binaryPatches;
        _context = contextLines;
    }

    /// <summary>Whether git's formats show this change at all.</summary>
    public static bool IsVisibleToGit(FileChange c)
    {
        bool oldOk = c.Old is { GitMode: not 0 and not 0x4000 }, newOk = c.New is { GitMode: not 0 and not 0x4000 };
        return c.Kind switch
        {
            ChangeKind.Added => newOk,
            ChangeKind.Deleted => oldOk,
            ChangeKind.TypeChanged => oldOk || newOk,
            ChangeKind.Renamed => true,
            _ => oldOk && newOk && (c.ContentChanged || c.Old!.GitMode != c.New!.GitMode),
        };
    }

    public PatchSummary Write(Stream output, IProgress<VersionProgress>? progress, CancellationToken cancellationToken)
    {
        var visible = _session.Changes.Where(IsVisibleToGit).ToList();
        int files = 0, binaries = 0;
        long bytes = 0;
        var sb = new StringBuilder();
        for (int i = 0; i < visible.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var c = visible[i];
            progress?.Report(new VersionProgress("patch", i, visible.Count, c.Path));
            if (c.Kind == ChangeKind.TypeChanged)
            {
                if (c.Old!.GitMode is not 0) binaries += Section(output, sb, c, c.Old, null, ref bytes) ? 1 : 0;
                if (c.New!.GitMode is not 0) binaries += Section(output, sb, c, null, c.New, ref bytes) ? 1 : 0;
            }
            else binaries += Section(output, sb, c, c.Old, c.New, ref bytes) ? 1 : 0;
            files++;
        }
        progress?.Report(new VersionProgress("patch", visible.Count, visible.Count, null));
        output.Flush();
        return new PatchSummary(files, binaries, LeftOut(visible), bytes);
    }

    /// <summary>Changes the patch cannot carry: special files, permission bits other than x, directory modes, and
    /// directories added or deleted with nothing git shows inside them (git creates and removes the others itself).</summary>
    private int LeftOut(List<FileChange> visible)
    {
        var paths = new SortedSet<byte[]>(ByteOrder.Instance);
        foreach (var c in visible)
        {
            paths.Add(c.RawPath);
            if (c.RawOldPath != null) paths.Add(c.RawOldPath);
        }
        int n = 0;
        foreach (var c in _session.Changes)
        {
            if (IsVisibleToGit(c)) continue;
            if (c.IsDirectory && c.Kind is ChangeKind.Added or ChangeKind.Deleted)
            {
                byte[] prefix = [.. c.RawPath, (byte)'/'];
                byte[] upper = [.. c.RawPath, (byte)('/' + 1)];
                if (paths.GetViewBetween(prefix, upper).Count > 0) continue;
            }
            n++;
        }
        return n;
    }

    /// <summary>One "diff --git" section; returns whether it was binary.</summary>
    private bool Section(Stream output, StringBuilder sb, FileChange c, FileVersion? old, FileVersion? @new, ref long bytes)
    {
        byte[] oldPath = c.RawOldPath ?? c.RawPath, newPath = c.RawPath;
        byte[] a = old == null ? [] : _session.Content(c, old: true);
        byte[] b = @new == null ? [] : _session.Content(c, old: false);
        bool rename = c.Kind == ChangeKind.Renamed;
        sb.Clear();
        sb.Append("diff --git ").Append(GitEncoding.Quote("a/", oldPath)).Append(' ').Append(GitEncoding.Quote("b/", newPath)).Append('\n');
        if (old == null) sb.Append("new file mode ").Append(Octal(@new!.GitMode)).Append('\n');
        else if (@new == null) sb.Append("deleted file mode ").Append(Octal(old.GitMode)).Append('\n');
        else if (old.GitMode != @new.GitMode)
            sb.Append("old mode ").Append(Octal(old.GitMode)).Append("\nnew mode ").Append(Octal(@new.GitMode)).Append('\n');
        if (rename)
            sb.Append("similarity index 100%\nrename from ").Append(GitEncoding.Quote(oldPath))
              .Append("\nrename to ").Append(GitEncoding.Quote(newPath)).Append('\n');

        bool sameContent = old != null && @new != null && a.AsSpan().SequenceEqual(b);
        bool binary = false;
        if (!sameContent)
        {
            string oldId = old == null ? ZeroId : c.OldOid ??= TreeDiffer.BlobId(a);
            string newId = @new == null ? ZeroId : c.NewOid ??= TreeDiffer.BlobId(b);
            sb.Append("index ").Append(oldId).Append("..").Append(newId);
            if (old != null && @new != null && old.GitMode == @new.GitMode) sb.Append(' ').Append(Octal(old.GitMode));
            sb.Append('\n');
            string labelA = old == null ? "/dev/null" : GitEncoding.Quote("a/", oldPath);
            string labelB = @new == null ? "/dev/null" : GitEncoding.Quote("b/", newPath);
            binary = BinaryContent.IsBinary(a) || BinaryContent.IsBinary(b);
            if (binary)
            {
                if (_binary)
                {
                    sb.Append("GIT binary patch\n");
                    GitEncoding.WriteLiteral(sb, b);
                    GitEncoding.WriteLiteral(sb, a);
                }
                else sb.Append("Binary files ").Append(labelA).Append(" and ").Append(labelB).Append(" differ\n");
                Emit(output, sb, ref bytes);
            }
            else if (a.Length > 0 || b.Length > 0)
            {
                // git ends a ---/+++ name that has a space with a tab, so the name's end is unambiguous.
                sb.Append("--- ").Append(labelA).Append(old != null && oldPath.Contains((byte)' ') ? "\t" : "").Append('\n');
                sb.Append("+++ ").Append(labelB).Append(@new != null && newPath.Contains((byte)' ') ? "\t" : "").Append('\n');
                Emit(output, sb, ref bytes);
                var (la, lb) = Lines.Split(a, b);
                WriteHunks(output, la, lb, LineDiff.Compute(la.Ids, lb.Ids), ref bytes);
            }
            else Emit(output, sb, ref bytes);
        }
        else Emit(output, sb, ref bytes);
        return binary;
    }

    private static void Emit(Stream output, StringBuilder sb, ref long bytes)
    {
        byte[] text = Encoding.UTF8.GetBytes(sb.ToString());
        output.Write(text);
        bytes += text.Length;
        sb.Clear();
    }

    public const string ZeroId = "0000000000000000000000000000000000000000";

    internal static string Octal(int mode) => Convert.ToString(mode, 8).PadLeft(6, '0');

    private void WriteHunks(Stream output, Lines a, Lines b, List<LineChange> changes, ref long bytes)
    {
        int ctx = _context;
        var buf = new MemoryStream();
        byte[] funcName = [];
        int funcSearchLimit = -1;
        for (int k = 0; k < changes.Count;)
        {
            int first = k, last = k;
            while (last + 1 < changes.Count && changes[last + 1].OldStart - (changes[last].OldStart + changes[last].Deleted) <= 2 * ctx) last++;
            var f = changes[first];
            var l = changes[last];
            int oStart = Math.Max(0, f.OldStart - ctx);
            int lastOldEnd = l.OldStart + l.Deleted;
            int oEnd = Math.Min(a.Count, lastOldEnd + ctx);
            int nStart = f.NewStart - (f.OldStart - oStart);
            int nEnd = l.NewStart + l.Inserted + (oEnd - lastOldEnd);
            // Like git: the nearest line above the hunk (after the previous hunk's search) that starts with a
            // letter, '_' or '$' names the hunk; without one, the previous hunk's name is kept.
            for (int fl = oStart - 1; fl > funcSearchLimit && fl >= 0; fl--)
                if (FuncName(a[fl]) is { } found) { funcName = found; break; }
            funcSearchLimit = oStart - 1;
            buf.Write(Encoding.ASCII.GetBytes($"@@ -{Range(oStart, oEnd - oStart)} +{Range(nStart, nEnd - nStart)} @@"));
            if (funcName.Length > 0)
            {
                buf.WriteByte((byte)' ');
                buf.Write(funcName);
            }
            buf.WriteByte((byte)'\n');
            int i = oStart;
            for (int x = first; x <= last; x++)
            {
                var c = changes[x];
                for (; i < c.OldStart; i++) Line(buf, ' ', a, i);
                for (int d = 0; d < c.Deleted; d++) Line(buf, '-', a, c.OldStart + d);
                for (int n = 0; n < c.Inserted; n++) Line(buf, '+', b, c.NewStart + n);
                i = c.OldStart + c.Deleted;
            }
            for (; i < oEnd; i++) Line(buf, ' ', a, i);
            if (buf.Length > 1 << 20)
            {
                bytes += buf.Length;
                buf.WriteTo(output);
                buf.SetLength(0);
            }
            k = last + 1;
        }
        bytes += buf.Length;
        buf.WriteTo(output);
    }

    /// <summary>git's default funcname rule (xdiff's def_ff): a line starting with an ASCII letter, '_' or '$',
    /// cut to 80 bytes, without trailing white space.</summary>
    private static byte[]? FuncName(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty || !(char.IsAsciiLetter((char)line[0]) || line[0] == '_' || line[0] == '$')) return null;
        if (line.Length > 80) line = line[..80];
        int len = line.Length;
        while (len > 0 && line[len - 1] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r') len--;
        return line[..len].ToArray();
    }

    /// <summary>"start,count" of a hunk header: 1-based; a count of 1 is left out; an empty range names the line before it.</summary>
    private static string Range(int start, int count) => count switch
    {
        0 => $"{start},0",
        1 => (start + 1).ToString(CultureInfo.InvariantCulture),
        _ => $"{start + 1},{count}",
    };

    private static readonly byte[] NoNewline = "\n\\ No newline at end of file\n"u8.ToArray();

    private static void Line(MemoryStream buf, char prefix, Lines lines, int i)
    {
        buf.WriteByte((byte)prefix);
        buf.Write(lines[i]);
        if (!lines.EndsWithNewline(i)) buf.Write(NoNewline);
    }

    /// <summary>Lines added and deleted per change (git's --stat / --numstat figures; binary files count bytes).</summary>
    public List<FileStat> Stats()
    {
        var list = new List<FileStat>();
        foreach (var c in _session.Changes)
        {
            if (!IsVisibleToGit(c))
            {
                list.Add(new FileStat(c, 0, 0, false, ShownByGit: false));
                continue;
            }
            bool oldOk = c.Old is { GitMode: not 0 and not 0x4000 }, newOk = c.New is { GitMode: not 0 and not 0x4000 };
            byte[] a = oldOk && (c.ContentChanged || c.Kind == ChangeKind.Deleted) ? _session.Content(c, old: true) : [];
            byte[] b = newOk && (c.ContentChanged || c.Kind == ChangeKind.Added) ? _session.Content(c, old: false) : [];
            bool binary = BinaryContent.IsBinary(a) || BinaryContent.IsBinary(b);
            if (binary)
            {
                list.Add(new FileStat(c, b.Length, a.Length, true));
                continue;
            }
            long ins = 0, del = 0;
            if (a.Length > 0 || b.Length > 0)
            {
                var (la, lb) = Lines.Split(a, b);
                foreach (var ch in LineDiff.Compute(la.Ids, lb.Ids))
                {
                    ins += ch.Inserted;
                    del += ch.Deleted;
                }
            }
            list.Add(new FileStat(c, ins, del, false));
        }
        return list;
    }
}
