namespace AgentFs;

/// <summary>What a REF names: the base directory alone, a sealed checkpoint, or the current head of a branch.</summary>
public enum StateKind
{
    /// <summary>The base directory as it is, with no layer on top (REF <c>base</c>).</summary>
    Base,
    /// <summary>A sealed checkpoint, named by its id.</summary>
    Checkpoint,
    /// <summary>The current head of a branch, named by the branch's name.</summary>
    Branch,
}
