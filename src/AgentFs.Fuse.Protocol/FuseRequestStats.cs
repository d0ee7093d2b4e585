using System.Diagnostics;
using System.Text;

namespace AgentFs.Fuse.Protocol;

/// <summary>
/// Counts the requests of a session and the time spent on each kind (decode, handler and reply), to see
/// what a workload asks of the daemon. Off unless <see cref="FuseMountOptions.CollectStats"/> is set
/// (the command sets it from AGENTFS_FUSE_STATS=1); when on, each request costs two timestamps and two
/// interlocked adds.
/// </summary>
public sealed class FuseRequestStats
{
    private const int Slots = 64;
    private readonly long[] _counts = new long[Slots];
    private readonly long[] _ticks = new long[Slots];

    internal void Record(FuseOpcode opcode, long started)
    {
        int slot = (int)opcode < Slots ? (int)opcode : 0;
        Interlocked.Increment(ref _counts[slot]);
        Interlocked.Add(ref _ticks[slot], Stopwatch.GetTimestamp() - started);
    }

    /// <summary>Sets every count and time back to zero.</summary>
    public void Reset()
    {
        for (int i = 0; i < Slots; i++)
        {
            Interlocked.Exchange(ref _counts[i], 0);
            Interlocked.Exchange(ref _ticks[i], 0);
        }
    }

    /// <summary>How many requests of <paramref name="opcode"/> were served.</summary>
    public long Count(FuseOpcode opcode) => (int)opcode < Slots ? Volatile.Read(ref _counts[(int)opcode]) : 0;

    /// <summary>One line per opcode seen: count, total and mean time in the daemon.</summary>
    public string Format()
    {
        var text = new StringBuilder();
        long all = 0;
        for (int i = 0; i < Slots; i++)
        {
            long n = Volatile.Read(ref _counts[i]);
            if (n == 0) continue;
            all += n;
            double ms = Volatile.Read(ref _ticks[i]) * 1000.0 / Stopwatch.Frequency;
            string name = i == 0 ? "other" : ((FuseOpcode)i).ToString();
            text.AppendLine($"{name,-14} {n,10:N0} requests {ms,10:F1} ms {ms * 1000 / n,8:F1} µs each");
        }
        text.Append($"{"all",-14} {all,10:N0} requests");
        return text.ToString();
    }
}
