namespace AgentFs;

public sealed partial class AgentStore
{
    /// <summary>Writes a branch's tree as a POSIX tar to a stream; see <see cref="AgentFileSystem.ExportTar"/>.</summary>
    public ExportResult ExportTar(Stream destination, string branch = "main", IProgress<ExportProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        using var fs = OpenFileSystem(branch, readOnly: true);
        return fs.ExportTar(destination, progress, cancellationToken);
    }

    /// <summary>
    /// Writes a branch's tree as a POSIX tar file at <paramref name="outputPath"/>: written to OUTPUT.tmp, synced and
    /// renamed, so a failed or cancelled export leaves nothing at OUTPUT. An existing OUTPUT is replaced only with
    /// <paramref name="overwrite"/>.
    /// </summary>
    public ExportResult ExportTar(string outputPath, string branch = "main", bool overwrite = false,
        IProgress<ExportProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        string target = FullHostPath(outputPath, "export path");
        StoreFiles.CheckPlainTarget(target, overwrite, "export");
        using var fs = OpenFileSystem(branch, readOnly: true);
        string tmp = StoreFiles.CreateTemp(target, removeLeftover: overwrite, "export");
        try
        {
            ExportResult result;
            using (var file = new FileStream(tmp, FileMode.Truncate, FileAccess.Write, FileShare.None, 1 << 16))
            {
                result = fs.ExportTar(file, progress, cancellationToken);
                file.Flush(flushToDisk: true);
            }
            File.Move(tmp, target, overwrite);
            StoreFiles.SyncDirectory(target);
            return result;
        }
        catch
        {
            StoreFiles.DeleteWithSidecars(tmp);
            throw;
        }
    }
}
