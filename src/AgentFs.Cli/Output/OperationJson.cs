namespace AgentFs.Cli.Output;

/// <summary>One line of <c>ops --json</c>: an operation, a checkpoint marker (op "checkpoint") or a network event
/// (op "net"). Keys not meaningful for the event are null.</summary>
internal sealed record OperationJson(long? Seq, string Time, string Branch, string Op, string? Path, string? To, ulong? Ino,
    long? Bytes, int? Pid, uint? Uid, string? Process, long? Checkpoint, string? Detail)
{
    public static OperationJson From(OperationRecord e) => e.Op switch
    {
        "checkpoint" => new(null, Formats.Time(e.TimeNs), e.Branch, e.Op, null, null, null, null, null, null, null, e.CheckpointId, e.Detail),
        "net" => new(null, Formats.Time(e.TimeNs), e.Branch, e.Op, null, null, null, null, e.Pid, null, e.ProcessName, null, e.Detail),
        _ => new(e.Seq, Formats.Time(e.TimeNs), e.Branch, e.Op, e.Path, e.To, e.Ino, e.Bytes, e.Pid, e.Uid, e.ProcessName, null, null),
    };
}
