namespace AgentFs;

public sealed partial class AgentFileSystem
{
    /// <summary>
    /// False: this view records nothing in the operation log. It exists only so the oplog benchmark can measure
    /// what the log costs on the write path (the same creates with and without it); nothing in the product turns
    /// it off, because a mutation missing from the log is a lie told to the user.
    /// </summary>
    internal bool OperationLogEnabled { get; set; } = true;
}
