namespace AgentFs;

/// <summary>How <see cref="AgentStore.Apply(string, string, ApplyOptions, IProgress{VersionProgress}?, CancellationToken)"/> writes.</summary>
public sealed class ApplyOptions
{
    /// <summary>Check and plan only; write nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>
    /// Write the set-user-id, set-group-id and sticky bits the branch has. Off by default: whoever ran the
    /// agent could set them on its own files, and an apply run by root (or any other user) would turn them
    /// into that user's privileges on the agent's content. Without it those bits are left out and listed in
    /// <see cref="ApplyResult.DroppedBits"/> (bits a path already had in the target stay on a mode-only change).
    /// </summary>
    public bool KeepSpecialBits { get; init; }
}
