using System.Collections.Concurrent;

namespace AgentFs;

/// <summary>Process names for the operation log, read once per pid from /proc.</summary>
internal static class ProcessNames
{
    private static readonly ConcurrentDictionary<int, string> Cache = new();

    public static string Get(int pid)
    {
        if (Cache.TryGetValue(pid, out var n)) return n;
        try { n = File.ReadAllText($"/proc/{pid}/comm").Trim(); }
        catch { n = ""; }
        if (Cache.Count > 4096) Cache.Clear();
        Cache[pid] = n;
        return n;
    }
}
