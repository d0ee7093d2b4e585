using System.Text;

namespace AgentFs.Tests.Versions;

/// <summary>Random base trees and random change sets made through the library (seeded: a failure names its seed).</summary>
internal static class RandomChanges
{
    private static readonly string[] Names =
    [
        "a.txt", "b.c", "readme.md", "space name.txt", "quo\"te.txt", "uni-é.txt", "new\nline.txt", "tab\tname",
        "back\\slash", "data.bin", "empty", "x", "-dash", "日本.txt", "trailing ", "run.sh",
    ];

    private static readonly string[] Dirs = ["", "src", "src/lib", "docs", "a b", "dé", "deep/er/est"];

    public static string Name(Random r) => Names[r.Next(Names.Length)];

    public static byte[] Text(Random r, int maxLines = 30)
    {
        var sb = new StringBuilder();
        int n = r.Next(maxLines + 1);
        for (int i = 0; i < n; i++) sb.Append("line ").Append(r.Next(12)).Append(i % 5 == 0 ? " some more words" : "").Append('\n');
        if (n > 0 && r.Next(4) == 0) sb.Length--; // no newline at the end
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static byte[] Content(Random r) => r.Next(10) switch
    {
        0 => [],
        1 => Binary(r),
        _ => Text(r),
    };

    private static byte[] Binary(Random r)
    {
        var b = new byte[r.Next(1, 3000)];
        r.NextBytes(b);
        b[r.Next(b.Length)] = 0;
        return b;
    }

    public static void MakeBase(string dir, Random r)
    {
        foreach (var d in Dirs) Directory.CreateDirectory(Path.Combine(dir, d));
        for (int i = 0; i < 25; i++)
        {
            string p = Path.Combine(dir, Dirs[r.Next(Dirs.Length)], Name(r));
            if (File.Exists(p) || Directory.Exists(p)) continue;
            if (r.Next(8) == 0)
            {
                File.CreateSymbolicLink(p, r.Next(2) == 0 ? "a.txt" : "../nowhere");
                continue;
            }
            File.WriteAllBytes(p, Content(r));
            if (r.Next(4) == 0) File.SetUnixFileMode(p, (UnixFileMode)Convert.ToInt32("755", 8));
        }
    }

    /// <summary>Paths of regular files and symlinks, and of directories, in a branch.</summary>
    public static (List<string> Files, List<string> Dirs) List(AgentFileSystem fs)
    {
        var files = new List<string>();
        var dirs = new List<string>();
        void Walk(string rel)
        {
            foreach (var e in fs.Enumerate("/" + rel))
            {
                string p = rel.Length == 0 ? e.NameString : rel + "/" + e.NameString;
                var a = fs.GetAttributes("/" + p);
                if (a.IsDirectory)
                {
                    dirs.Add(p);
                    Walk(p);
                }
                else files.Add(p);
            }
        }
        Walk("");
        return (files, dirs);
    }

    public static void Mutate(AgentFileSystem fs, Random r, int ops)
    {
        for (int i = 0; i < ops; i++)
        {
            var (files, dirs) = List(fs);
            string PickDir() => dirs.Count == 0 || r.Next(3) == 0 ? "" : dirs[r.Next(dirs.Count)];
            string NewPath() { string d = PickDir(); return d.Length == 0 ? Name(r) : d + "/" + Name(r); }
            bool Free(string p) => !fs.Exists(p);
            try
            {
                switch (r.Next(12))
                {
                    case 0 or 1 or 2 when files.Count > 0:
                    {
                        string f = files[r.Next(files.Count)];
                        var a = fs.GetAttributes(f);
                        if (!a.IsRegular) break;
                        var lines = fs.ReadAllText(f).Split('\n').ToList();
                        int edits = r.Next(1, 4);
                        for (int e = 0; e < edits; e++)
                        {
                            int at = r.Next(lines.Count + 1);
                            switch (r.Next(3))
                            {
                                case 0: lines.Insert(at, "inserted " + r.Next(100)); break;
                                case 1 when lines.Count > 0: lines.RemoveAt(Math.Min(at, lines.Count - 1)); break;
                                default: if (lines.Count > 0) lines[Math.Min(at, lines.Count - 1)] = "changed " + r.Next(100); break;
                            }
                        }
                        fs.WriteAllText(f, string.Join('\n', lines));
                        break;
                    }
                    case 3:
                    {
                        string p = NewPath();
                        if (Free(p)) fs.WriteAllBytes(p, Content(r), r.Next(3) == 0 ? 0x1EDu : 0x1A4u);
                        break;
                    }
                    case 4 when files.Count > 0:
                        fs.Delete(files[r.Next(files.Count)]);
                        break;
                    case 5 when files.Count > 0:
                    {
                        string p = NewPath();
                        if (Free(p)) fs.Move(files[r.Next(files.Count)], p);
                        break;
                    }
                    case 6 when files.Count > 0:
                    {
                        string f = files[r.Next(files.Count)];
                        var a = fs.GetAttributes(f);
                        if (a.IsRegular) fs.SetMode(f, (a.Mode & 0x40) != 0 ? 0x1A4u : 0x1EDu);
                        break;
                    }
                    case 7 when files.Count > 0:
                    {
                        string f = files[r.Next(files.Count)];
                        fs.Delete(f);
                        if (r.Next(2) == 0) fs.CreateSymbolicLink(f, "target-" + r.Next(10));
                        else fs.WriteAllBytes(f, Content(r));
                        break;
                    }
                    case 8:
                    {
                        string d = NewPath() + "-dir";
                        if (Free(d))
                        {
                            fs.CreateDirectory(d);
                            fs.WriteAllBytes(d + "/inner.txt", Text(r));
                        }
                        break;
                    }
                    case 9 when dirs.Count > 0:
                        fs.Delete(dirs[r.Next(dirs.Count)], recursive: true);
                        break;
                    case 10 when dirs.Count > 0:
                    {
                        string d = dirs[r.Next(dirs.Count)];
                        string to = Name(r) + "-moved";
                        if (Free(to) && !("/" + to + "/").StartsWith("/" + d + "/")) fs.Move(d, to);
                        break;
                    }
                    case 11 when files.Count > 0:
                    {
                        string f = files[r.Next(files.Count)];
                        if (fs.GetAttributes(f).IsRegular) fs.WriteAt(f, r.Next(100), Encoding.UTF8.GetBytes("patched"));
                        break;
                    }
                }
            }
            catch (AgentFsException e) when (e.Errno is Errno.EEXIST or Errno.ENOTDIR or Errno.EINVAL or Errno.ENOTEMPTY or Errno.EISDIR)
            {
                // A random step that does not fit the tree; the next one will.
            }
        }
    }
}
