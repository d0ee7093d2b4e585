namespace AgentFs;

public sealed partial class AgentFileSystem
{
    /// <summary>
    /// Writes this branch's tree to <paramref name="destination"/> as a POSIX (pax) tar: regular files with their
    /// content, directories, symlinks, hard links, fifos and devices, with modes, uid/gid, times and extended
    /// attributes (see <see cref="TarExport"/> for the exact format and its limits). The destination is not
    /// closed. A branch written during the export is read as committed when each file is reached; for one
    /// consistent state, checkpoint, branch from the checkpoint and export that branch.
    /// </summary>
    public ExportResult ExportTar(Stream destination, IProgress<ExportProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new TarExport(this, destination, progress, cancellationToken).Run();
    }
}
