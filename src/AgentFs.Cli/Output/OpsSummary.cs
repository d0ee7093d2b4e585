namespace AgentFs.Cli.Output;

/// <summary><c>ops --summary</c>: the selected operations grouped by process name and by top-level directory
/// ('.' for files in the root), most operations first. Bytes written counts write and fallocate; files touched
/// counts distinct paths.</summary>
internal sealed record OpsSummary(IReadOnlyList<OpsGroup> Processes, IReadOnlyList<OpsGroup> Directories)
{
    public static OpsSummary Of(IEnumerable<OperationRecord> events)
    {
        var byProcess = new Dictionary<string, Acc>(StringComparer.Ordinal);
        var byDirectory = new Dictionary<string, Acc>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.Op is "checkpoint" or "net") continue;
            Add(byProcess, e.ProcessName, e);
            Add(byDirectory, TopLevel(e.Path), e);
        }
        return new(Groups(byProcess), Groups(byDirectory));
    }

    private static string TopLevel(string? path)
    {
        if (path == null) return "(unknown)";
        int slash = path.IndexOf('/');
        return slash < 0 ? "." : path[..slash];
    }

    private static void Add(Dictionary<string, Acc> map, string key, OperationRecord e)
    {
        if (!map.TryGetValue(key, out var acc)) map[key] = acc = new Acc();
        acc.Ops++;
        if (e.Op is "write" or "fallocate") acc.Bytes += e.Bytes;
        acc.Files.Add(e.Path ?? $"(inode {e.Ino})");
    }

    private static List<OpsGroup> Groups(Dictionary<string, Acc> map) =>
        map.Select(kv => new OpsGroup(kv.Key, kv.Value.Ops, kv.Value.Bytes, kv.Value.Files.Count))
            .OrderByDescending(g => g.Ops).ThenBy(g => g.Name, StringComparer.Ordinal).ToList();

    private sealed class Acc
    {
        public long Ops, Bytes;
        public readonly HashSet<string> Files = new(StringComparer.Ordinal);
    }
}

/// <summary>One group of <see cref="OpsSummary"/>.</summary>
internal sealed record OpsGroup(string Name, long Ops, long BytesWritten, int FilesTouched);
