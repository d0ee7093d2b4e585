using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace AgentFs.Tests.Versions;

/// <summary>Runs the real git.</summary>
internal static class Git
{
    public static (int Code, string Out, string Err) Run(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", "core.quotepath=true", "-c", "user.email=t@t", "-c", "user.name=t", "-c", "core.autocrlf=false" }) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        psi.Environment["HOME"] = dir;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    public static string Ok(string dir, params string[] args)
    {
        var (code, output, err) = Run(dir, args);
        Assert.True(code == 0, $"git {string.Join(' ', args)} failed ({code}): {err}{output}");
        return output;
    }
}

/// <summary>Describes trees (a directory on disk, or a state of a store) as path → "type mode content" lines to compare.</summary>
internal static class Trees
{
    /// <param name="gitModes">Compare as git can: files 644/755 by the owner's x bit, no directory entries (git has none).</param>
    public static SortedDictionary<string, string> OfDirectory(string dir, bool gitModes = false)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Walk(dir, "", result, gitModes);
        return result;
    }

    private static void Walk(string root, string rel, SortedDictionary<string, string> result, bool gitModes)
    {
        foreach (var p in Directory.EnumerateFileSystemEntries(Path.Combine(root, rel)))
        {
            string name = Path.GetFileName(p);
            string r = rel.Length == 0 ? name : rel + "/" + name;
            if (r == ".git") continue;
            var fi = new FileInfo(p);
            if (fi.LinkTarget != null)
            {
                result[r] = "l -> " + fi.LinkTarget;
                continue;
            }
            uint mode = (uint)File.GetUnixFileMode(p);
            if (fi.Attributes.HasFlag(FileAttributes.Directory))
            {
                if (!gitModes) result[r] = "d " + Convert.ToString(mode, 8);
                Walk(root, r, result, gitModes);
            }
            else result[r] = "f " + Mode(mode, gitModes) + " " + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)));
        }
    }

    public static SortedDictionary<string, string> OfState(AgentFileSystem fs, bool gitModes = false)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        WalkState(fs, "", result, gitModes);
        return result;
    }

    private static void WalkState(AgentFileSystem fs, string rel, SortedDictionary<string, string> result, bool gitModes)
    {
        foreach (var e in fs.Enumerate("/" + rel))
        {
            string r = rel.Length == 0 ? e.NameString : rel + "/" + e.NameString;
            var a = fs.GetAttributes("/" + r);
            uint mode = a.Mode & 0xFFF;
            if (a.IsSymlink) result[r] = "l -> " + fs.ReadSymbolicLink("/" + r);
            else if (a.IsDirectory)
            {
                if (!gitModes) result[r] = "d " + Convert.ToString(mode, 8);
                WalkState(fs, r, result, gitModes);
            }
            else result[r] = "f " + Mode(mode, gitModes) + " " + Convert.ToHexString(SHA256.HashData(fs.ReadAllBytes("/" + r)));
        }
    }

    private static string Mode(uint mode, bool gitModes) => gitModes ? ((mode & 0x40) != 0 ? "755" : "644") : Convert.ToString(mode, 8);

    public static void AssertSame(SortedDictionary<string, string> expected, SortedDictionary<string, string> actual)
    {
        var sb = new StringBuilder();
        foreach (var (k, v) in expected)
            if (!actual.TryGetValue(k, out var w)) sb.Append($"missing {Show(k)}: {v}\n");
            else if (v != w) sb.Append($"differs {Show(k)}: expected {v}, got {w}\n");
        foreach (var (k, v) in actual)
            if (!expected.ContainsKey(k)) sb.Append($"extra {Show(k)}: {v}\n");
        Assert.True(sb.Length == 0, sb.ToString());
    }

    /// <summary>Everything about a tree a write would change: paths, types, modes, contents, link targets and mtimes.</summary>
    public static string Fingerprint(string dir)
    {
        var sb = new StringBuilder();
        foreach (var (k, v) in OfDirectory(dir))
        {
            sb.Append(k).Append('|').Append(v);
            var p = Path.Combine(dir, k);
            if (!v.StartsWith("l ")) sb.Append('|').Append(new FileInfo(p).LastWriteTimeUtc.Ticks);
            sb.Append('\n');
        }
        return sb.Append(new DirectoryInfo(dir).LastWriteTimeUtc.Ticks).ToString();
    }

    private static string Show(string s) => s.Replace("\n", "\\n").Replace("\t", "\\t");

    /// <summary>cp -a: a copy with modes and symlinks.</summary>
    public static void Copy(string from, string to)
    {
        var p = Process.Start(new ProcessStartInfo("cp", ["-a", from + "/.", to]))!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
