namespace AgentFs.Cli.Hooks;

/// <summary>Replaces a configuration file in one rename, so a harness starting meanwhile reads the old file or the
/// new one, never half of one. A file that exists keeps its mode; a new one is 0644 (configuration, not secrets).</summary>
internal static class AtomicFile
{
    public static void Write(string path, byte[] content)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        if (new FileInfo(path).LinkTarget != null)
            throw new AgentFsException(Errno.EINVAL, $"{path} is a symbolic link; install into the file it points to (pass that path), nothing was changed");
        UnixFileMode mode = File.Exists(path) ? File.GetUnixFileMode(path)
            : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        string temp = Path.Combine(dir, $".{Path.GetFileName(path)}.agentfs-{Environment.ProcessId}.tmp");
        try
        {
            using (var f = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode }))
            {
                f.Write(content);
                f.Flush(flushToDisk: true);
            }
            File.SetUnixFileMode(temp, mode);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (Exception) { }
            throw new AgentFsException(Errno.EIO, $"cannot write {path}: {e.Message}");
        }
    }
}
