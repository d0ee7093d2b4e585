using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AgentFs.Cli.Commands;

/// <summary>
/// The sandbox's network events for the operation log stream: the "net:" lines that <c>agentfs run --net allow=</c>
/// writes to STORE.log (<see cref="MountLog"/>), e.g.
/// <c>2026-12-03 16:19:22.123 +00:00 agentfs[4242]: net: branch main: refused CONNECT evil.example:443: ...</c>.
/// Read from a byte offset, so --follow reads only what was appended.
/// </summary>
internal static partial class NetworkLogLines
{
    [GeneratedRegex(@"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d\d:\d\d) agentfs\[(\d+)\]: net: branch (.*?): (.*)$")]
    private static partial Regex Line();

    /// <summary>The events of the branch in STORE.log from offset on; offset moves past the last whole line.</summary>
    public static List<OperationRecord> Read(string storePath, string branch, ref long offset)
    {
        var list = new List<OperationRecord>();
        byte[] data;
        try
        {
            using var f = new FileStream(MountLog.PathFor(storePath), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (f.Length <= offset) return list;
            f.Position = offset;
            data = new byte[f.Length - offset];
            data = data.AsSpan(0, f.ReadAtLeast(data, data.Length, throwOnEndOfStream: false)).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return list; }
        int end = Array.LastIndexOf(data, (byte)'\n') + 1; // a line being written is read next time
        offset += end;
        foreach (var line in Encoding.UTF8.GetString(data, 0, end).Split('\n'))
        {
            var m = Line().Match(line);
            if (!m.Success || m.Groups[3].Value != branch) continue;
            if (!DateTimeOffset.TryParseExact(m.Groups[1].Value, "yyyy-MM-dd HH:mm:ss.fff zzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t))
                continue;
            long ns = (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
            list.Add(new OperationRecord(0, ns, branch, 0, "net", null, null, 0, 0, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), 0, "agentfs")
            {
                Detail = m.Groups[4].Value,
            });
        }
        return list;
    }
}
