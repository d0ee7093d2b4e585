namespace AgentFs;

/// <summary>One step of an apply, in the order they run.</summary>
public enum ApplyActionKind { Delete, RemoveDirectory, CreateDirectory, WriteFile, WriteSymlink, SetMode }
