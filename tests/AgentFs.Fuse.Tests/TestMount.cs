using System.Collections.Concurrent;
using System.Diagnostics;
using AgentFs.Fuse.Protocol;

namespace AgentFs.Fuse.Tests;

/// <summary>
/// Mounts a <see cref="MemoryFileSystem"/> in a fresh directory under /tmp and, on Dispose, unmounts it and
/// checks that /proc/mounts no longer lists it. A leftover mount is detached with umount -l as a last resort.
/// </summary>
internal sealed class TestMount : IDisposable
{
    public TestMount(MemoryFileSystem? fs = null, Action<FuseMountOptions>? configure = null)
    {
        Fs = fs ?? new MemoryFileSystem();
        Path = System.IO.Path.Combine("/tmp", "agentfs-fuse-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
        Options = new FuseMountOptions { FsName = "agentfs-test", Log = Logs.Enqueue };
        configure?.Invoke(Options);
        try
        {
            Session = FuseSession.Mount(Path, Fs, Options);
            Fs.Session = Session;
        }
        catch
        {
            Directory.Delete(Path);
            throw;
        }
    }

    public MemoryFileSystem Fs { get; }

    public string Path { get; }

    public FuseMountOptions Options { get; }

    public FuseSession Session { get; }

    public ConcurrentQueue<string> Logs { get; } = new();

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public static bool IsMounted(string path) =>
        File.ReadLines("/proc/mounts").Any(line => line.Split(' ') is [_, var mountPoint, ..] && mountPoint == path);

    public static bool FuseAvailable => File.Exists("/dev/fuse") && Environment.IsPrivilegedProcess;

    public static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(System.IO.Path.Combine(dir, program)));

    public static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(15_000))
        {
            process.Kill();
            throw new TimeoutException($"{program} did not finish");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error}");
        return output;
    }

    public void Dispose()
    {
        // A failed Session.Dispose is kept, not lost: it becomes the inner exception of "still mounted",
        // or is rethrown once the mountpoint is gone.
        Exception? disposeFailure = null;
        try { Session.Dispose(); }
        catch (Exception e) { disposeFailure = e; }
        if (IsMounted(Path))
        {
            try { Run("umount", "-l", Path); } catch { /* reported below */ }
            throw new InvalidOperationException($"{Path} was still mounted after Dispose", disposeFailure);
        }
        Directory.Delete(Path);
        if (disposeFailure != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(disposeFailure);
    }
}
