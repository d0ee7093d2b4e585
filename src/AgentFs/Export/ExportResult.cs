namespace AgentFs;

/// <summary>
/// What <see cref="AgentFileSystem.ExportTar"/> wrote. <see cref="Warnings"/> lists, one line each, what the tar could
/// not hold exactly: sockets (tar has no type for them), names that are not UTF-8 (written with \xNN escapes),
/// files that vanished or changed size while being read (a branch written during the export).
/// </summary>
public sealed record ExportResult(long Entries, long Files, long Directories, long Symlinks, long HardLinks, long Specials,
    long ContentBytes, TimeSpan Elapsed, IReadOnlyList<string> Warnings);
