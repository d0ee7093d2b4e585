using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using AgentFs.Fuse;

namespace AgentFs.EndToEnd.Tests;

/// <summary>A base directory, a store over it and a real FUSE mount of its main branch; all removed afterwards.</summary>
public sealed class MountedStore : IDisposable
{
    /// <param name="under">Where to make the scratch directory (default: the temp directory).</param>
    public MountedStore(Action<string>? fillBase = null, string? under = null)
    {
        Root = under == null ? Directory.CreateTempSubdirectory("agentfs-e2e-").FullName
            : Directory.CreateDirectory(Path.Combine(under, "agentfs-e2e-" + Path.GetRandomFileName())).FullName;
        BaseDir = Path.Combine(Root, "base");
        MountPoint = Path.Combine(Root, "mnt");
        StorePath = Path.Combine(Root, "store.agentfs");
        Directory.CreateDirectory(BaseDir);
        Directory.CreateDirectory(MountPoint);
        fillBase?.Invoke(BaseDir);
        BaseHashBefore = TreeHash(BaseDir);
        AgentStore.Create(StorePath, BaseDir).Dispose();
        Mount();
    }

    /// <summary>The repository's ./agentfs (builds the command when the sources changed), for tests that need another process.</summary>
    public static readonly string AgentfsCommand = Path.Combine(RepoRoot(), "agentfs");

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "AgentFs.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    public string Root { get; }
    public string BaseDir { get; }
    public string MountPoint { get; }
    public string StorePath { get; }
    public string BaseHashBefore { get; }
    public AgentMount? Current { get; private set; }

    public string P(string rel) => Path.Combine(MountPoint, rel);

    public void Mount(string branch = "main", TimeSpan? commitInterval = null) =>
        Current = AgentMount.Mount(StorePath, MountPoint, new AgentMountOptions
        {
            Branch = branch,
            CommitInterval = commitInterval ?? new StoreOptions().CommitInterval,
        });

    public void Unmount()
    {
        Current?.Dispose();
        Current = null;
    }

    /// <summary>Runs a shell command (cwd = the mount); returns stdout; fails the test on a non-zero exit.</summary>
    public string Sh(string script, string? cwd = null, int timeoutSeconds = 120)
    {
        var psi = new ProcessStartInfo("bash", ["-c", script])
        {
            WorkingDirectory = cwd ?? MountPoint,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["GIT_AUTHOR_NAME"] = psi.Environment["GIT_COMMITTER_NAME"] = "t";
        psi.Environment["GIT_AUTHOR_EMAIL"] = psi.Environment["GIT_COMMITTER_EMAIL"] = "t@example.com";
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(true);
            throw new Xunit.Sdk.XunitException($"timed out: {script}");
        }
        if (p.ExitCode != 0)
            throw new Xunit.Sdk.XunitException($"'{script}' exited {p.ExitCode}\nstdout: {output}\nstderr: {err.Result}");
        return output;
    }

    /// <summary>A hash of every path, type, mode, size, link target, content and mtime below dir (lstat semantics).</summary>
    public static string TreeHash(string dir)
    {
        var sb = new StringBuilder();
        foreach (var p in Directory.EnumerateFileSystemEntries(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                     .OrderBy(p => p, StringComparer.Ordinal))
        {
            var fi = new FileInfo(p);
            sb.Append(Path.GetRelativePath(dir, p)).Append('|').Append(fi.Attributes).Append('|')
              .Append(File.GetUnixFileMode(p)).Append('|').Append(fi.LastWriteTimeUtc.Ticks).Append('|');
            if (fi.LinkTarget != null) sb.Append("->").Append(fi.LinkTarget);
            else if (!fi.Attributes.HasFlag(FileAttributes.Directory)) sb.Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))));
            sb.Append('\n');
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    public void Dispose()
    {
        try { Unmount(); }
        finally
        {
            if (AgentMount.IsMountPoint(MountPoint)) Process.Start("umount", ["-l", MountPoint])!.WaitForExit();
            Assert.Equal(BaseHashBefore, TreeHash(BaseDir));
            try { Directory.Delete(Root, true); } catch { }
        }
    }
}
