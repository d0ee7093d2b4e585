using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentFs.Cli.Commands;

/// <summary>
/// Which events of a branch's operation log <c>agentfs ops</c> and the MCP server's <c>ops</c> tool show: the filters
/// parsed once (refs to times, the op list), then read as one stream, oldest first, of file operations, checkpoint
/// markers and the sandbox's network events (STORE.log). <see cref="Read"/> from given positions is what --follow
/// repeats.
/// </summary>
internal sealed partial class OperationSelection
{
    public static readonly string[] FileOps =
        ["create", "mkdir", "mknod", "symlink", "link", "unlink", "rmdir", "rename", "write", "fallocate", "setattr", "setxattr", "removexattr"];
    public static readonly string[] AllOps = [.. FileOps, "checkpoint", "net"];

    private OperationSelection(string storePath, OperationQuery query, long? after, long? until, bool fileOps, bool markers, bool net)
    {
        StorePath = storePath;
        Query = query;
        AfterNs = after;
        UntilNs = until;
        WantFileOps = fileOps;
        WantMarkers = markers;
        WantNet = net;
    }

    public string StorePath { get; }
    public string Branch => Query.Branch!;
    public OperationQuery Query { get; }
    public long? AfterNs { get; }
    public long? UntilNs { get; }
    public bool WantFileOps { get; }
    public bool WantMarkers { get; }
    public bool WantNet { get; }

    /// <summary>Parses the filters as <c>agentfs ops</c> spells them (REFs, TIME, GLOB, OP,...); throws one line naming what is wrong.</summary>
    public static OperationSelection Parse(AgentStore s, string storePath, string branch, string? from, string? to, string? since,
        string? pathGlob, int? pid, string? process, string? ops)
    {
        s.GetBranch(branch);
        var opList = ParseOps(ops);
        long? after = from is { } f ? s.OperationTimeOf(f, asEnd: false) : null;
        if (since is { } t) after = Math.Max(after ?? 0, ParseTime(t));
        long? until = to is { } u ? s.OperationTimeOf(u, asEnd: true) : null;
        if (until == long.MaxValue) until = null;
        var query = new OperationQuery
        {
            Branch = branch, AfterNs = after, UntilNs = until, PathGlob = pathGlob, Pid = pid,
            ProcessName = process, Ops = opList?.Where(o => FileOps.Contains(o)).ToList(),
        };
        bool net = (opList == null || opList.Contains("net")) && pathGlob == null && pid == null
            && (process == null || process == "agentfs");
        return new OperationSelection(storePath, query, after, until,
            opList == null || opList.Any(o => FileOps.Contains(o)), opList == null || opList.Contains("checkpoint"), net);
    }

    /// <summary>
    /// The selected events after the given positions (0: from the start), oldest first; moves each position past what
    /// it returns. Checkpoint markers advance <paramref name="lastCheckpoint"/> even when not wanted or
    /// <paramref name="withMarkers"/> is false, so a later read does not return them.
    /// </summary>
    public List<OperationRecord> Read(AgentStore s, bool withMarkers, ref long lastSeq, ref long lastCheckpoint, ref long netOffset)
    {
        var events = new List<OperationRecord>();
        if (WantFileOps)
        {
            var rows = s.ReadOperations(new OperationQuery
            {
                Branch = Query.Branch, AfterNs = Query.AfterNs, UntilNs = Query.UntilNs, PathGlob = Query.PathGlob, Pid = Query.Pid,
                ProcessName = Query.ProcessName, Ops = Query.Ops, AfterSeq = lastSeq,
            });
            if (rows.Count > 0) lastSeq = Math.Max(lastSeq, rows.Max(e => e.Seq));
            events.AddRange(rows);
        }
        var markers = s.ReadCheckpointMarkers(Branch, AfterNs, UntilNs, lastCheckpoint);
        if (markers.Count > 0) lastCheckpoint = Math.Max(lastCheckpoint, markers.Max(m => m.CheckpointId!.Value));
        if (WantMarkers && withMarkers) events.AddRange(markers);
        if (WantNet)
        {
            bool first = netOffset == 0;
            var net = NetworkLogLines.Read(StorePath, Branch, ref netOffset);
            events.AddRange(first ? net.Where(e => e.TimeNs > (AfterNs ?? 0) && e.TimeNs <= (UntilNs ?? long.MaxValue)) : net);
        }
        events.Sort(static (x, y) => x.TimeNs != y.TimeNs ? x.TimeNs.CompareTo(y.TimeNs) : x.Seq.CompareTo(y.Seq));
        return events;
    }

    private static List<string>? ParseOps(string? text)
    {
        if (text == null) return null;
        var list = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var o in list)
            if (!AllOps.Contains(o))
                throw new AgentFsException(Errno.EINVAL, $"--op {o} is not an operation of the log; use some of {string.Join(',', AllOps)}");
        if (list.Count == 0) throw new AgentFsException(Errno.EINVAL, $"--op is empty; use some of {string.Join(',', AllOps)}");
        return list;
    }

    [GeneratedRegex(@"^(\d+)(s|m|h|d)$")]
    private static partial Regex Duration();

    /// <summary>--since: an RFC 3339 time or date (UTC when no offset is given), or a duration ago.</summary>
    internal static long ParseTime(string text)
    {
        var m = Duration().Match(text.Trim());
        if (m.Success && long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n < 100_000_000)
        {
            var span = m.Groups[2].Value switch { "s" => TimeSpan.FromSeconds(n), "m" => TimeSpan.FromMinutes(n), "h" => TimeSpan.FromHours(n), _ => TimeSpan.FromDays(n) };
            return (DateTimeOffset.UtcNow - span - DateTimeOffset.UnixEpoch).Ticks * 100;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var t))
            return (t - DateTimeOffset.UnixEpoch).Ticks * 100;
        throw new AgentFsException(Errno.EINVAL,
            $"--since '{text}' is not a time; use an RFC 3339 time (2025-11-24T11:13:00Z), a date (2025-11-24) or a duration ago (30s, 10m, 2h, 3d)");
    }
}
