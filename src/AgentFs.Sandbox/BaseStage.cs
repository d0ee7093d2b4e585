using AgentFs.Control;

namespace AgentFs.Sandbox;

/// <summary>
/// The stage of a sandbox: an empty directory in the runtime directory (the user's own, checked by
/// <see cref="ControlPaths.ChooseRuntimeDirectory"/>) where the launcher's namespace binds the base directory
/// before the session covers its path. Named after this process, so a stage left by a killed agentfs run is
/// removed by the next start.
/// </summary>
internal static class BaseStage
{
    private static int s_counter;

    public static string Create()
    {
        string runtime = ControlPaths.ChooseRuntimeDirectory();
        RemoveStale(runtime);
        string stage = Path.Combine(runtime, $"stage-{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}");
        try { Directory.CreateDirectory(stage, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AgentFsException(Errno.EIO, $"cannot create {stage} for the sandbox ({e.Message}); check the runtime directory {runtime}");
        }
        return stage;
    }

    public static void Remove(string stage)
    {
        try { Directory.Delete(stage); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        try { File.Delete(SocketsFile(stage)); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>The host sockets the launcher covers with /dev/null, NUL-separated, beside the stage.</summary>
    public static string SocketsFile(string stage) => stage + ".sockets";

    public static void WriteSocketsToHide(string stage, IReadOnlyList<string> sockets)
    {
        var text = new System.Text.StringBuilder();
        foreach (string s in sockets) text.Append(s).Append('\0');
        File.WriteAllText(SocketsFile(stage), text.ToString());
    }

    /// <summary>Removes the empty stages of agentfs processes that no longer run.</summary>
    private static void RemoveStale(string runtime)
    {
        IEnumerable<string> stages;
        try { stages = Directory.EnumerateDirectories(runtime, "stage-*"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (string dir in stages)
        {
            string[] parts = Path.GetFileName(dir).Split('-');
            if (parts.Length == 3 && int.TryParse(parts[1], out int pid) && !Directory.Exists($"/proc/{pid}")) Remove(dir);
        }
    }
}
