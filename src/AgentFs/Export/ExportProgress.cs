namespace AgentFs;

/// <summary>How far an export has got: entries written and bytes of file content written.</summary>
public readonly record struct ExportProgress(long Entries, long ContentBytes, string CurrentPath);
