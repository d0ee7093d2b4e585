namespace AgentFs.Sandbox;

/// <summary>Finds the processes of a sandbox: those in the PID namespace of the launcher's child (the sandbox's PID 1).</summary>
internal static class SandboxProcesses
{
    /// <summary>Host pids of the processes in the sandbox of launcher <paramref name="launcherPid"/>.</summary>
    public static List<int> Find(int launcherPid, bool includeInit)
    {
        var found = new List<int>();
        string? ns = null;
        try
        {
            foreach (string child in File.ReadAllText($"/proc/{launcherPid}/task/{launcherPid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                ns = PidNamespace(int.Parse(child));
                if (ns != null) break;
            }
        }
        catch (IOException) { return found; }
        if (ns == null || ns == PidNamespace(Environment.ProcessId)) return found;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || PidNamespace(pid) != ns) continue;
            if (!includeInit && InnermostPid(pid) == 1) continue;
            found.Add(pid);
        }
        return found;
    }

    private static string? PidNamespace(int pid)
    {
        try { return new FileInfo($"/proc/{pid}/ns/pid").LinkTarget; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>The pid a process has in its own namespace (last field of NSpid), or 0.</summary>
    private static int InnermostPid(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("NSpid:", StringComparison.Ordinal))
                    return int.Parse(line.Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries)[^1]);
        }
        catch (IOException) { }
        return 0;
    }
}
