using System.CommandLine;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs export STORE OUT.tar [--branch B] [--force]</c>: the branch's tree as a POSIX (pax) tar that GNU tar
/// and bsdtar extract: contents, directories, symlinks, hard links, fifos and devices, modes, uid/gid, times and
/// extended attributes (<c>tar --xattrs</c> restores them). OUT <c>-</c> writes the tar to stdout. A file OUT
/// appears only when complete. What the tar cannot hold exactly (sockets, names that are not UTF-8) is
/// reported on stderr as warnings.
/// </summary>
internal static class ExportCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var output = new Argument<string>("OUT") { Description = "The tar file to write, or - for stdout" };
        var branch = CommonOptions.Branch();
        var force = new Option<bool>("--force", "-f") { Description = "Replace OUT if it exists" };
        var json = CommonOptions.Json();
        var cmd = new Command("export", "Write a branch's tree as a tar archive")
        {
            store, output, branch, force, json,
        };
        cmd.SetAction(r =>
        {
            string outPath = StoreAccess.CheckPath(r.GetValue(output)!, "output path");
            string b = r.GetValue(branch)!;
            bool asJson = r.GetValue(json);
            using var s = StoreAccess.OpenForReading(r.GetValue(store)!);
            ExportResult result;
            if (outPath == "-")
            {
                if (asJson)
                    throw new AgentFsException(Errno.EINVAL, "export to stdout (-) cannot print --json as well; write the tar to a file to get the summary");
                if (io.IsTerminal)
                    throw new AgentFsException(Errno.EINVAL, "refusing to write a tar archive to the terminal; redirect stdout (> out.tar, | tar -x) or pass a file");
                io.FlushText();
                result = Interruptible.Run("export", "the tar on stdout is incomplete", token => s.ExportTar(io.Stdout, b, null, token));
                io.Stdout.Flush();
                WriteWarnings(io, result.Warnings);
                return Program.ExitOk;
            }
            string full = Path.GetFullPath(outPath);
            result = Interruptible.Run("export", $"nothing was written to {full}", token =>
                TerminalProgress.Run(io, "exporting", progress =>
                    s.ExportTar(outPath, b, r.GetValue(force), progress?.ForExport("exporting"), token), knownTotal: false));
            if (asJson)
            {
                io.WriteJson(new ExportJson(s.Path, b, full, result.Entries, result.Files, result.Directories, result.Symlinks,
                    result.HardLinks, result.Specials, result.ContentBytes, Math.Round(result.Elapsed.TotalSeconds, 3), result.Warnings), CliJson.Document.ExportJson);
                return Program.ExitOk;
            }
            io.Out.WriteLine($"exported branch {b} of store {s.Path} to {full}: {result.Entries} entries " +
                             $"({result.Files} files, {result.Directories} directories, {result.Symlinks} symlinks, {result.HardLinks} hard links, " +
                             $"{result.Specials} special files), {Size.Text(result.ContentBytes)} of content in {Size.Seconds(result.Elapsed)}");
            WriteWarnings(io, result.Warnings);
            return Program.ExitOk;
        });
        return cmd;
    }

    private static void WriteWarnings(CommandIo io, IReadOnlyList<string> warnings)
    {
        const int Shown = 20;
        foreach (var w in warnings.Take(Shown)) io.Error.WriteLine("agentfs: warning: " + Program.OneLine(w));
        if (warnings.Count > Shown) io.Error.WriteLine($"agentfs: warning: and {warnings.Count - Shown} more (--json lists them all)");
    }

    /// <summary><c>export --json</c> (a file OUT only).</summary>
    internal sealed record ExportJson(string Store, string Branch, string Output, long Entries, long Files, long Directories,
        long Symlinks, long HardLinks, long Specials, long ContentBytes, double Seconds, IReadOnlyList<string> Warnings);
}
