using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Spectre.Console;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs backup STORE OUT [--force]</c>: writes a consistent copy of the whole store to OUT while its branches
/// may be mounted and written (SQLite's online backup from one read snapshot: the writer is never blocked). OUT
/// appears only once the copy is complete and checked; Ctrl-C or an error leaves nothing there. The base
/// directory is not copied (the backup refers to it by path), which the output says.
/// </summary>
internal static class BackupCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var output = new Argument<string>("OUT") { Description = "Path of the backup file to write (must not exist, unless --force)" };
        var force = new Option<bool>("--force", "-f") { Description = "Replace OUT if it is an earlier backup (an AgentFs store no process has open)" };
        var json = CommonOptions.Json();
        var cmd = new Command("backup", "Write a consistent copy of a store (all branches and checkpoints), even while it is mounted")
        {
            store, output, force, json,
        };
        cmd.SetAction(r =>
        {
            string outPath = StoreAccess.CheckPath(r.GetValue(output)!, "backup path");
            using var s = StoreAccess.OpenForReading(r.GetValue(store)!);
            var result = Interruptible.Run("backup", $"nothing was written to {Path.GetFullPath(outPath)}", token =>
                TerminalProgress.Run(io, "backing up", progress =>
                    s.Backup(outPath, r.GetValue(force), progress?.ForCopy(), token)));
            if (r.GetValue(json))
                io.WriteJson(new BackupJson(result.StorePath, result.OutputPath, result.BaseDirectory, false, result.StoreId, result.Bytes,
                    result.PageCount, result.PageSize, Math.Round(result.Elapsed.TotalSeconds, 3), result.LeasesCleared), CliJson.Document.BackupJson);
            else
            {
                io.Out.WriteLine($"backed up store {result.StorePath} to {result.OutputPath}: {Size.Text(result.Bytes)} in {Size.Seconds(result.Elapsed)}");
                io.Out.WriteLine($"the base directory {result.BaseDirectory} is not in the backup: the backup refers to it by path");
            }
            return Program.ExitOk;
        });
        return cmd;
    }

    /// <summary><c>backup --json</c>. base_included is always false: a backup holds the overlay, not the base directory.</summary>
    internal sealed record BackupJson(string Store, string Output, string Base, bool BaseIncluded, string StoreId, long Bytes,
        long Pages, int PageSize, double Seconds, int LeasesCleared);
}

/// <summary>Sizes and durations as the backup, restore and export commands print them.</summary>
internal static class Size
{
    public static string Text(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} bytes",
        < 1 << 20 => (bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        < 1 << 30 => (bytes / 1048576.0).ToString("0.#", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / 1073741824.0).ToString("0.##", CultureInfo.InvariantCulture) + " GiB",
    };

    public static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";
}

/// <summary>Runs a long command so that SIGINT/SIGTERM cancel it cleanly (its temporary files removed) instead of killing it.</summary>
internal static class Interruptible
{
    public static T Run<T>(string what, string consequence, Func<CancellationToken, T> work)
    {
        using var cts = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cts.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cts.Cancel(); });
        try { return work(cts.Token); }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new AgentFsException(4 /* EINTR */, $"{what} interrupted; {consequence}");
        }
    }
}

/// <summary>
/// A progress bar on the terminal while a long command runs (nothing when stdout is not a terminal). It clears
/// itself when done, so a quick run shows nothing but its result.
/// </summary>
internal sealed class TerminalProgress
{
    private readonly ProgressTask _task;

    private TerminalProgress(ProgressTask task) => _task = task;

    public static T Run<T>(CommandIo io, string title, Func<TerminalProgress?, T> work, bool knownTotal = true)
    {
        if (!io.IsTerminal) return work(null);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(io.Out),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Yes,
        });
        ProgressColumn[] columns = knownTotal
            ? [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new RemainingTimeColumn()]
            : [new TaskDescriptionColumn(), new SpinnerColumn(), new ElapsedTimeColumn()];
        T result = default!;
        console.Progress().AutoClear(true).HideCompleted(true).Columns(columns).Start(ctx =>
        {
            var task = ctx.AddTask(Markup.Escape(title), autoStart: true, maxValue: 1);
            if (!knownTotal) task.IsIndeterminate = true;
            result = work(new TerminalProgress(task));
            task.StopTask();
        });
        io.Out.Flush();
        return result;
    }

    public void Update(double done, double total, string? description = null)
    {
        if (total > 0) _task.MaxValue = total;
        _task.Value = Math.Min(done, _task.MaxValue);
        if (description != null) _task.Description = Markup.Escape(description);
    }

    public IProgress<BackupProgress> ForCopy() => new Sink<BackupProgress>(p => Update(p.BytesCopied, p.TotalBytes));

    public IProgress<ExportProgress> ForExport(string title) =>
        new Sink<ExportProgress>(p => Update(0, 0, $"{title}: {p.Entries} entries, {Size.Text(p.ContentBytes)}"));

    public IProgress<VersionProgress> ForVersion(Func<VersionProgress, string> describe) =>
        new Sink<VersionProgress>(p => Update(p.Done, p.Total, Program.OneLine(describe(p))));

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and lag behind).</summary>
    private sealed class Sink<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
