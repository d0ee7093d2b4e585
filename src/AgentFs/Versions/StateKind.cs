namespace AgentFs;

/// <summary>What a REF names: the base directory alone, a sealed checkpoint, or the current head of a branch.</summary>
public enum StateKind { Base, Checkpoint, Branch }
