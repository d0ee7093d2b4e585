using System.CommandLine;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AgentFs.Fuse;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs mount STORE MOUNTPOINT [--branch B] [--background] [--read-only]</c>: serves a branch at an
/// empty directory until it is unmounted (<c>agentfs unmount</c>, umount) or the command gets SIGINT or
/// SIGTERM, which commit everything durably and unmount. With --background the command returns once the
/// mount is ready and a detached process (its own session) serves it.
/// </summary>
internal static class MountCommand
{
    private const string ReadyLine = "agentfs-mount-ready";

    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var mountPoint = new Argument<string>("MOUNTPOINT") { Description = "An existing, empty directory" };
        var branch = CommonOptions.Branch();
        var background = new Option<bool>("--background") { Description = "Return once mounted; a detached process serves the mount" };
        var readOnly = new Option<bool>("--read-only") { Description = "Mount read-only (no lease: other writers may hold the branch)" };
        var writeback = new Option<bool>("--writeback-cache") { Description = "Collect writes in the kernel's writeback cache and send them later in large requests (fewer requests for many small writes to one file, one more per open and per create)" };
        var noWriteback = new Option<bool>("--no-writeback-cache") { Description = "Send every write to the store at once (the default)", Hidden = true };
        var passthrough = new Option<bool>("--passthrough") { Description = "Let the kernel read unchanged base files directly (FUSE passthrough; turns the writeback cache off; while a base file is read this way, opening it for writing fails with ETXTBSY)" };
        var threads = new Option<int>("--threads") { Description = "Reader threads on /dev/fuse", DefaultValueFactory = _ => Math.Max(2, Environment.ProcessorCount) };
        var ready = new Option<bool>("--signal-ready") { Hidden = true };
        var cmd = new Command("mount", "Mount a branch of a store at an empty directory (foreground until unmounted)")
        {
            store, mountPoint, branch, background, readOnly, writeback, noWriteback, passthrough, threads, ready,
        };
        cmd.SetAction(r =>
        {
            string storePath = StoreAccess.CheckPath(r.GetValue(store)!, "store");
            string mp = Path.GetFullPath(r.GetValue(mountPoint)!);
            // FUSE threads log concurrently; the background mount's stderr pipe may be gone (hence IOException is
            // ignored). What the serving process reports also goes to STORE.log, which --background users can read.
            var log = TextWriter.Synchronized(io.Error);
            var storeLog = new StrongBox<MountLog?>(); // opened by Serve once the mount is up
            var options = new AgentMountOptions
            {
                Branch = r.GetValue(branch)!,
                ReadOnly = r.GetValue(readOnly),
                WritebackCache = r.GetValue(writeback) && !r.GetValue(noWriteback),
                Passthrough = r.GetValue(passthrough),
                Threads = Math.Max(1, r.GetValue(threads)),
                Store = StoreTuning.FromEnvironment(),
                Log = message =>
                {
                    storeLog.Value?.Write(message);
                    try { log.WriteLine($"agentfs: {message}"); } catch (IOException) { }
                },
            };
            if (r.GetValue(background))
            {
                var args = new List<string> { storePath, mp, "--branch", options.Branch, "--threads", options.Threads.ToString() };
                if (options.ReadOnly) args.Add("--read-only");
                if (options.WritebackCache) args.Add("--writeback-cache");
                if (options.Passthrough) args.Add("--passthrough");
                return StartInBackground(io, args, mp);
            }
            return Serve(io, log, storeLog, storePath, mp, options, r.GetValue(ready));
        });
        return cmd;
    }

    /// <param name="log">io.Error, synchronized: the mount's threads write to it too.</param>
    /// <param name="storeLog">Set here to STORE.log once mounted (left null for a read-only mount).</param>
    /// <returns>0 when everything was committed at the end; 1 when the last commit failed (the mount's log and
    /// stderr name what was not saved, and <c>agentfs unmount</c> reports it too).</returns>
    private static int Serve(CommandIo io, TextWriter log, StrongBox<MountLog?> storeLog, string storePath, string mp, AgentMountOptions options, bool signalReady)
    {
        using var stop = new ManualResetEventSlim();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; });
        var mount = AgentMount.Mount(storePath, mp, options);
        using var opened = storeLog.Value = options.ReadOnly ? null : MountLog.TryOpen(mount.Store.Path);
        try
        {
            opened?.Write($"mounted {mount.Store.Path} (branch {options.Branch}) at {mp}, pid {Environment.ProcessId}");
            ServeUntilStopped(io, log, mount, storePath, mp, options, signalReady, stop);
        }
        catch
        {
            try { mount.Dispose(); } catch (AgentFsException) { }
            throw;
        }
        try { mount.Dispose(); } // commits durably, unmounts and releases the branch
        catch (AgentFsException)
        {
            return Program.ExitError; // already reported through options.Log: stderr and STORE.log
        }
        opened?.Write($"unmounted {mp}; everything was committed to {mount.Store.Path}");
        return Program.ExitOk;
    }

    private static void ServeUntilStopped(CommandIo io, TextWriter log, AgentMount mount, string storePath, string mp, AgentMountOptions options,
        bool signalReady, ManualResetEventSlim stop)
    {
        // With AGENTFS_FUSE_STATS, SIGUSR1 reports the request counts so far and starts counting again.
        using var sigusr1 = options.CollectStats
            ? PosixSignalRegistration.Create((PosixSignal)10, c => { c.Cancel = true; mount.ReportStats(reset: true); })
            : null;
        if (signalReady)
        {
            io.Out.WriteLine($"{ReadyLine} {Environment.ProcessId}");
            io.Out.Flush();
        }
        else
        {
            log.WriteLine($"agentfs: mounted {storePath} (branch {options.Branch}) at {mp}; Ctrl-C or 'agentfs unmount {mp}' to unmount");
            log.Flush();
        }
        WaitHandle.WaitAny([stop.WaitHandle, ((IAsyncResult)mount.Completion).AsyncWaitHandle]);
    }

    /// <summary>Starts `setsid agentfs mount ... --signal-ready` and returns once it says the mount is ready.</summary>
    private static int StartInBackground(CommandIo io, List<string> args, string mp)
    {
        string entry = Environment.GetCommandLineArgs()[0];
        var psi = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        string self = Environment.ProcessPath!;
        psi.ArgumentList.Add(self);
        if (entry.EndsWith(".dll", StringComparison.Ordinal) && !self.EndsWith(".dll", StringComparison.Ordinal) &&
            Path.GetFileNameWithoutExtension(self) == "dotnet")
            psi.ArgumentList.Add(entry);
        psi.ArgumentList.Add("mount");
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("--signal-ready");
        using var p = Process.Start(psi) ?? throw new AgentFsException(Errno.EIO, "cannot start the background mount process");
        p.StandardInput.Close();
        var err = p.StandardError.ReadToEndAsync();
        string? line;
        // The serving process names its own pid: setsid forks when its caller leads a process group.
        while ((line = p.StandardOutput.ReadLine()) != null)
            if (line.StartsWith(ReadyLine + " ", StringComparison.Ordinal))
            {
                io.Out.WriteLine(line[(ReadyLine.Length + 1)..]);
                return Program.ExitOk;
            }
        p.WaitForExit();
        string message = err.Result.Trim();
        io.Error.WriteLine(message.Length > 0 ? message.Split('\n')[0] : $"agentfs: the background mount at {mp} failed (exit {p.ExitCode})");
        return p.ExitCode == 0 ? Program.ExitError : p.ExitCode;
    }
}
