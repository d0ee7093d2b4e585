namespace AgentFs;

/// <summary>A directory entry as readdir returns it. <see cref="Offset"/> is the cookie that continues after it.</summary>
public readonly record struct DirectoryEntry(byte[] Name, ulong Ino, uint Mode, long Offset)
{
    public string NameString => System.Text.Encoding.UTF8.GetString(Name);
}
