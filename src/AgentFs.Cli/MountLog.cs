using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace AgentFs.Cli;

/// <summary>
/// STORE.log, beside the store: what the process serving a writable mount reports (mounted, unmounted, commits
/// failing and recovering, what was not saved at the end). It is where a <c>--background</c> mount's messages go,
/// since that process has no terminal. Created 0600 (its lines name the session's files), appended to, one
/// timestamped line per event. The store's disk may be full when something worth reporting happens, so room for
/// the next lines is reserved ahead (fallocate with FALLOC_FL_KEEP_SIZE: blocks past the end, size unchanged).
/// </summary>
internal sealed partial class MountLog : IDisposable
{
    private const int FALLOC_FL_KEEP_SIZE = 1;
    private const long Reserve = 64 * 1024;
    private readonly FileStream _file;
    private readonly object _lock = new();

    private MountLog(FileStream file) => _file = file;

    public static string PathFor(string storePath) => storePath + ".log";

    /// <summary>The log of a store, or null when it cannot be opened (the mount then reports on stderr only).</summary>
    public static MountLog? TryOpen(string storePath)
    {
        try
        {
            var file = new FileStream(PathFor(storePath), new FileStreamOptions
            {
                Mode = FileMode.Append,
                Access = FileAccess.Write,
                Share = FileShare.ReadWrite | FileShare.Delete,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            var log = new MountLog(file);
            log.ReserveAhead();
            return log;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    public void Write(string message)
    {
        byte[] line = Encoding.UTF8.GetBytes($"{DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss.fff zzz} agentfs[{Environment.ProcessId}]: {message}\n");
        lock (_lock)
        {
            try
            {
                _file.Write(line);
                _file.Flush();
                ReserveAhead();
            }
            catch (IOException) { }
        }
    }

    private void ReserveAhead() => fallocate(_file.SafeFileHandle, FALLOC_FL_KEEP_SIZE, _file.Length, Reserve);

    public void Dispose()
    {
        lock (_lock) _file.Dispose();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fallocate(SafeFileHandle fd, int mode, long offset, long length);
}
