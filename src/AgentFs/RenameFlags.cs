namespace AgentFs;

/// <summary>rename(2)/renameat2(2) flags.</summary>
[Flags]
public enum RenameFlags { None = 0, NoReplace = 1, Exchange = 2 }
