namespace AgentFs.Cli.Hooks;

/// <summary>
/// Where <c>agentfs hook run</c> reports: it must never fail the agent's turn, so what goes wrong (and each
/// checkpoint it takes) is a line in this file instead of an exit code. The file is $AGENTFS_HOOK_LOG, else
/// $XDG_STATE_HOME/agentfs/hook.log, else ~/.local/state/agentfs/hook.log; when that cannot be written (a
/// read-only home inside <c>agentfs run</c>), /tmp/agentfs-hook-UID.log. Created 0600: lines hold prompts.
/// </summary>
internal static partial class HookLog
{
    public static string PreferredPath()
    {
        if (Environment.GetEnvironmentVariable("AGENTFS_HOOK_LOG") is { Length: > 0 } explicitPath) return explicitPath;
        string? state = Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } x && Path.IsPathRooted(x) ? x
            : Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home ? Path.Combine(home, ".local", "state") : null;
        return state != null ? Path.Combine(state, "agentfs", "hook.log") : FallbackPath();
    }

    private static string FallbackPath() => $"/tmp/agentfs-hook-{geteuid()}.log";

    [System.Runtime.InteropServices.LibraryImport("libc")]
    private static partial uint geteuid();

    /// <summary>Appends one line (time, then the text); returns the file written, or null when none could be.</summary>
    public static string? Write(string line)
    {
        string text = $"{DateTimeOffset.UtcNow:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} {Program.OneLine(line)}\n";
        foreach (string path in new[] { PreferredPath(), FallbackPath() })
        {
            try
            {
                if (Path.GetDirectoryName(path) is { Length: > 0 } dir) Directory.CreateDirectory(dir);
                using var f = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
                f.Write(System.Text.Encoding.UTF8.GetBytes(text));
                return path;
            }
            catch (Exception) { }
        }
        return null;
    }
}
