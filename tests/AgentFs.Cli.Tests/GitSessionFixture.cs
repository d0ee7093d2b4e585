using System.Diagnostics;
using System.Security.Cryptography;

namespace AgentFs.Cli.Tests;

/// <summary>
/// A session of an agent working in git repositories, made with the real git: the base holds repositories; the
/// agent's work happens in a copy of the base (<see cref="Work"/>) with real git commands, and is then written into
/// the store's main branch file by file (every file that differs, .git included; every file gone deleted), which is
/// the state a mount would have recorded. Tests of the mount itself live in the end-to-end tests.
/// </summary>
public sealed class GitSessionFixture : IDisposable
{
    public GitSessionFixture(params string[] repositories)
    {
        Root = Directory.CreateTempSubdirectory("agentfs-gitsession-").FullName;
        BaseDir = Path.Combine(Root, "base");
        Work = Path.Combine(Root, "work");
        StorePath = Path.Combine(Root, "store.agentfs");
        Directory.CreateDirectory(BaseDir);
        foreach (var repo in repositories)
        {
            string dir = Path.Combine(BaseDir, repo);
            Directory.CreateDirectory(dir);
            Git(dir, "init", "-q", "-b", "main");
            File.WriteAllText(Path.Combine(dir, "a.txt"), "one\ntwo\nthree\n");
            File.WriteAllText(Path.Combine(dir, "keep.txt"), "keep\n");
            File.WriteAllText(Path.Combine(dir, "gone.txt"), "to be deleted\n");
            File.WriteAllText(Path.Combine(dir, ".gitignore"), "*.o\n");
            Git(dir, "add", "-A");
            Git(dir, "commit", "-q", "-m", "base commit", "--date=2020-01-01T00:00:00Z");
        }
        File.WriteAllText(Path.Combine(BaseDir, "README"), "outside any repository\n");
        Cli.Run("init", StorePath, "--base", BaseDir).Ok();
        CopyTree(BaseDir, Work);
        BaseHash = TreeHash(BaseDir);
    }

    public string Root { get; }
    public string BaseDir { get; }
    /// <summary>Where the agent's git commands run; <see cref="Replay"/> makes the store's main branch hold it.</summary>
    public string Work { get; }
    public string StorePath { get; }
    public string BaseHash { get; }

    public string PathIn(string rel) => Path.Combine(Root, rel);

    /// <summary>The agent's usual session in one repository: two commits, then an uncommitted edit, a deletion, and an ignored file.</summary>
    public void AgentCommitsTwiceAndLeavesEdits(string repo)
    {
        string dir = Path.Combine(Work, repo);
        File.AppendAllText(Path.Combine(dir, "a.txt"), "four\n");
        Agent(dir, "commit", "-q", "-a", "-m", "Add four", "-m", "Body of the first commit.", "--date=2024-05-01T10:00:00Z");
        File.WriteAllText(Path.Combine(dir, "new.sh"), "#!/bin/sh\necho new\n");
        File.SetUnixFileMode(Path.Combine(dir, "new.sh"), (UnixFileMode)0x1ED);
        File.WriteAllBytes(Path.Combine(dir, "blob.bin"), [0, 1, 2, 255, 0, 7]);
        Agent(dir, "add", "new.sh", "blob.bin");
        Agent(dir, "commit", "-q", "-m", "Add a script and a binary", "--date=2024-05-01T11:00:00Z");
        File.AppendAllText(Path.Combine(dir, "keep.txt"), "edited, not committed\n");
        File.Delete(Path.Combine(dir, "gone.txt"));
        File.WriteAllText(Path.Combine(dir, "untracked.txt"), "new, not added\n");
        File.WriteAllText(Path.Combine(dir, "build.o"), "ignored\n");
    }

    /// <summary>Writes the agent's work directory into the store's main branch: what differs from the base, and deletions.</summary>
    public void Replay()
    {
        using var store = AgentStore.Open(StorePath);
        using var fs = store.OpenFileSystem("main");
        ReplayDirectory(fs, "");
        fs.Flush();
    }

    private void ReplayDirectory(AgentFileSystem fs, string rel)
    {
        string work = Path.Combine(Work, rel), baseDir = Path.Combine(BaseDir, rel);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var e in Directory.EnumerateFileSystemEntries(work)) names.Add(Path.GetFileName(e));
        if (Directory.Exists(baseDir))
            foreach (var e in Directory.EnumerateFileSystemEntries(baseDir))
                if (!names.Contains(Path.GetFileName(e))) fs.Delete("/" + Join(rel, Path.GetFileName(e)), recursive: true);
        foreach (var name in names)
        {
            string r = Join(rel, name), w = Path.Combine(work, name), b = Path.Combine(baseDir, name);
            var wi = new FileInfo(w);
            if (wi.Attributes.HasFlag(FileAttributes.Directory))
            {
                if (!Directory.Exists(b)) fs.CreateDirectory("/" + r);
                ReplayDirectory(fs, r);
                continue;
            }
            uint mode = (uint)File.GetUnixFileMode(w);
            byte[] data = File.ReadAllBytes(w);
            if (File.Exists(b) && data.AsSpan().SequenceEqual(File.ReadAllBytes(b)) && mode == (uint)File.GetUnixFileMode(b)) continue;
            fs.WriteAllBytes("/" + r, data, mode);
            fs.SetMode("/" + r, mode);
        }
    }

    private static string Join(string rel, string name) => rel.Length == 0 ? name : rel + "/" + name;

    public static string Git(string dir, params string[] args) => RunGit(dir, "t", "t@example.com", args);

    /// <summary>git as the agent (its own author and committer).</summary>
    public static string Agent(string dir, params string[] args) => RunGit(dir, "Agent Smith", "agent@example.com", args);

    private static string RunGit(string dir, string name, string email, string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var k in psi.Environment.Keys.Where(k => k.StartsWith("GIT_", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(k);
        psi.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        psi.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        psi.Environment["GIT_AUTHOR_NAME"] = psi.Environment["GIT_COMMITTER_NAME"] = name;
        psi.Environment["GIT_AUTHOR_EMAIL"] = psi.Environment["GIT_COMMITTER_EMAIL"] = email;
        psi.Environment["GIT_COMMITTER_DATE"] = "2024-06-01T00:00:00Z";
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"git {string.Join(' ', args)} in {dir} failed ({p.ExitCode}): {err.Result}{output}");
        return output;
    }

    /// <summary>A clone of a base repository that shares no files with it (a local clone would hard-link the base's objects).</summary>
    public string CloneBase(string repo, string name)
    {
        string dest = PathIn(name);
        Git(Root, "clone", "-q", "--no-local", Path.Combine(BaseDir, repo), dest);
        return dest;
    }

    /// <summary>The tree git would commit from a working directory (git add -A into a scratch index; .gitignore honoured).</summary>
    public static string WorkTreeId(string dir)
    {
        string index = Path.Combine(Path.GetTempPath(), "agentfs-index-" + Guid.NewGuid().ToString("N"));
        try
        {
            var psi = new ProcessStartInfo("bash", ["-c", "git read-tree HEAD && git add -A && git write-tree"])
            { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
            psi.Environment["GIT_INDEX_FILE"] = index;
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
            return output.Trim();
        }
        finally { File.Delete(index); }
    }

    public static void CopyTree(string from, string to)
    {
        var psi = new ProcessStartInfo("cp", ["-a", from, to]);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    /// <summary>A hash over every path, type, mode, size, mtime, ctime and content of a tree (to prove nothing changed).</summary>
    public static string TreeHash(string dir)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var p in Directory.EnumerateFileSystemEntries(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                     .OrderBy(p => p, StringComparer.Ordinal))
        {
            var fi = new FileInfo(p);
            sb.Append(Path.GetRelativePath(dir, p)).Append('|').Append(File.GetUnixFileMode(p)).Append('|').Append(fi.LastWriteTimeUtc.Ticks).Append('|');
            if (!fi.Attributes.HasFlag(FileAttributes.Directory) && fi.LinkTarget == null)
                sb.Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))));
            sb.Append('\n');
        }
        return Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sb.ToString())));
    }

    public void Dispose()
    {
        Assert.Equal(BaseHash, TreeHash(BaseDir)); // the base is never written
        try { Directory.Delete(Root, true); } catch { }
    }
}
