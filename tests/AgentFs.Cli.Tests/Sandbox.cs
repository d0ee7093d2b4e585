using System.Security.Cryptography;
using System.Text;

namespace AgentFs.Cli.Tests;

/// <summary>
/// A temporary sample base directory and a store over it (made with 'agentfs init'), deleted afterwards.
/// Remembers the base's content hash, so a test can check the base was never written.
/// </summary>
public sealed class Sandbox : IDisposable
{
    public Sandbox(bool init = true)
    {
        Root = Directory.CreateTempSubdirectory("agentfs-cli-").FullName;
        BaseDir = Path.Combine(Root, "base");
        StorePath = Path.Combine(Root, "store.agentfs");
        Directory.CreateDirectory(BaseDir);
        File.WriteAllText(Path.Combine(BaseDir, "a.txt"), "hello\n");
        Directory.CreateDirectory(Path.Combine(BaseDir, "src", "lib"));
        File.WriteAllText(Path.Combine(BaseDir, "src", "main.c"), "int main(void) { return 0; }\n");
        File.WriteAllBytes(Path.Combine(BaseDir, "src", "lib", "blob.bin"), Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7)).ToArray());
        Directory.CreateDirectory(Path.Combine(BaseDir, "empty"));
        File.CreateSymbolicLink(Path.Combine(BaseDir, "link"), "a.txt");
        // Modes are set, not left to the process's umask (CI machines run with 0002 as well as 0022).
        File.SetUnixFileMode(Path.Combine(BaseDir, "a.txt"), (UnixFileMode)Convert.ToInt32("644", 8));
        File.SetUnixFileMode(Path.Combine(BaseDir, "src", "main.c"), (UnixFileMode)Convert.ToInt32("755", 8));
        File.SetUnixFileMode(Path.Combine(BaseDir, "src", "lib", "blob.bin"), (UnixFileMode)Convert.ToInt32("644", 8));
        foreach (var d in new[] { "src", Path.Combine("src", "lib"), "empty" })
            File.SetUnixFileMode(Path.Combine(BaseDir, d), (UnixFileMode)Convert.ToInt32("755", 8));
        BaseHash = TreeHash(BaseDir);
        if (init) Cli.Run("init", StorePath, "--base", BaseDir).Ok();
    }

    public string Root { get; }
    public string BaseDir { get; }
    public string StorePath { get; }
    public string BaseHash { get; }

    public string PathIn(string name) => Path.Combine(Root, name);

    /// <summary>Runs the command with the store path after the command name: Fs("ls", "/") is 'agentfs fs STORE ls /'.</summary>
    public CliResult Fs(params string[] args) => Cli.Run(["fs", StorePath, .. args]);

    public CliResult Write(string path, string text, string branch = "main") =>
        Cli.RunWithInput(text, "fs", StorePath, "write", path, "--branch", branch);

    public string Cat(string path, string branch = "main") => Fs("cat", path, "--branch", branch).Ok().Stdout;

    public long Checkpoint(string? message = null, string branch = "main")
    {
        var r = Cli.Run(message == null ? ["checkpoint", StorePath, "--branch", branch] : ["checkpoint", StorePath, "--branch", branch, "-m", message]).Ok();
        return long.Parse(r.StdoutLines[^1]);
    }

    public void AssertBaseUnchanged() => Assert.Equal(BaseHash, TreeHash(BaseDir));

    /// <summary>Everything the store shows: each branch's checkpoints and files (path, type, mode, content or target).</summary>
    public string StoreSnapshot() => Snapshot(StorePath);

    public static string Snapshot(string storePath)
    {
        var sb = new StringBuilder();
        using var store = AgentStore.Open(storePath, new StoreOptions { ReadOnly = true });
        foreach (var b in store.ListBranches())
        {
            sb.Append("branch ").Append(b.Name).Append(" from ").Append(b.FromCheckpoint).Append('\n');
            foreach (var c in store.ListCheckpoints(b.Name))
                sb.Append("  checkpoint ").Append(c.Id).Append(' ').Append(c.Message).Append('\n');
            using var fs = store.OpenFileSystem(b.Name, readOnly: true);
            Walk(fs, "/", sb);
        }
        return sb.ToString();
    }

    private static void Walk(AgentFileSystem fs, string dir, StringBuilder sb)
    {
        foreach (var e in fs.Enumerate(dir))
        {
            string p = dir == "/" ? "/" + e.NameString : dir + "/" + e.NameString;
            var a = fs.GetAttributes(p);
            sb.Append("  ").Append(p).Append(' ').Append(Convert.ToString(a.Mode, 8)).Append(' ');
            if (a.IsDirectory)
            {
                sb.Append('\n');
                Walk(fs, p, sb);
                continue;
            }
            if (a.IsSymlink) sb.Append("-> ").Append(fs.ReadSymbolicLink(p));
            else if (a.IsRegular) sb.Append(Convert.ToHexString(SHA256.HashData(fs.ReadAllBytes(p))));
            sb.Append('\n');
        }
    }

    /// <summary>A hash over every path, type, mode, size, link target, content and mtime of a tree (lstat semantics).</summary>
    public static string TreeHash(string dir)
    {
        var sb = new StringBuilder();
        var entries = Directory.EnumerateFileSystemEntries(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .OrderBy(p => p, StringComparer.Ordinal);
        foreach (var p in entries)
        {
            var fi = new FileInfo(p);
            sb.Append(Path.GetRelativePath(dir, p)).Append('|').Append(fi.Attributes).Append('|')
              .Append(File.GetUnixFileMode(p)).Append('|').Append(fi.LastWriteTimeUtc.Ticks).Append('|');
            if (fi.LinkTarget != null) sb.Append("->").Append(fi.LinkTarget);
            else if (!fi.Attributes.HasFlag(FileAttributes.Directory)) sb.Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))));
            sb.Append('\n');
        }
        sb.Append(new DirectoryInfo(dir).LastWriteTimeUtc.Ticks);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, true); } catch { }
    }
}
