namespace AgentFs;

/// <summary>The type of a file system object, as the S_IFMT bits of its mode say.</summary>
public enum FileType { File, Directory, Symlink, Fifo, Socket, CharDevice, BlockDevice }
