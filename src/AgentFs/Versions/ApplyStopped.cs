namespace AgentFs;

/// <summary>
/// What an apply that stopped midway had done in the target and what not, carried by its
/// <see cref="AgentFsException"/> (the library's one exception type; the lists ride in <see cref="Exception.Data"/>)
/// so a caller can report them as data, not only in the message.
/// </summary>
public static class ApplyStopped
{
    private const string DoneKey = "AgentFs.ApplyStopped.Done", NotDoneKey = "AgentFs.ApplyStopped.NotDone";

    internal static AgentFsException Attach(AgentFsException e, IReadOnlyList<ApplyAction> done, IReadOnlyList<ApplyAction> notDone)
    {
        e.Data[DoneKey] = done;
        e.Data[NotDoneKey] = notDone;
        return e;
    }

    /// <summary>The steps already done in the target (in order) and those not done, when <paramref name="e"/> is
    /// an apply that stopped after it began writing; false for any other error.</summary>
    public static bool TryGet(AgentFsException e, out IReadOnlyList<ApplyAction> done, out IReadOnlyList<ApplyAction> notDone)
    {
        done = e.Data[DoneKey] as IReadOnlyList<ApplyAction> ?? [];
        notDone = e.Data[NotDoneKey] as IReadOnlyList<ApplyAction> ?? [];
        return e.Data.Contains(DoneKey);
    }
}
