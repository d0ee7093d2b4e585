using System.Security.Cryptography;

namespace AgentFs.Tests;

/// <summary>A temporary base directory and store path, deleted afterwards.</summary>
public sealed class TempStore : IDisposable
{
    public TempStore(bool makeBase = true)
    {
        Root = Directory.CreateTempSubdirectory("agentfs-test-").FullName;
        BaseDir = Path.Combine(Root, "base");
        StorePath = Path.Combine(Root, "store.agentfs");
        if (makeBase) Directory.CreateDirectory(BaseDir);
    }

    public string Root { get; }
    public string BaseDir { get; }
    public string StorePath { get; }

    public string BasePath(string rel) => Path.Combine(BaseDir, rel);

    public void WriteBase(string rel, string text) => WriteBase(rel, System.Text.Encoding.UTF8.GetBytes(text));

    public void WriteBase(string rel, byte[] data)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(BasePath(rel))!);
        File.WriteAllBytes(BasePath(rel), data);
    }

    public AgentStore Create(StoreOptions? o = null) => AgentStore.Create(StorePath, BaseDir, o);

    /// <summary>A hash over every path, type, mode, size, link target, content and mtime of a tree (lstat semantics).</summary>
    public static string TreeHash(string dir)
    {
        var entries = Directory.EnumerateFileSystemEntries(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .OrderBy(p => p, StringComparer.Ordinal);
        var sb = new System.Text.StringBuilder();
        foreach (var p in entries)
        {
            var fi = new FileInfo(p);
            sb.Append(Path.GetRelativePath(dir, p)).Append('|').Append(fi.Attributes).Append('|')
              .Append(File.GetUnixFileMode(p)).Append('|').Append(fi.LastWriteTimeUtc.Ticks).Append('|');
            if (fi.LinkTarget != null) sb.Append("->").Append(fi.LinkTarget);
            else if (!fi.Attributes.HasFlag(FileAttributes.Directory))
                sb.Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))));
            sb.Append('\n');
        }
        return Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sb.ToString())));
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, true); } catch { }
    }
}
