using System.Text;
using AgentFs.Control;
using AgentFs.Native;
using AgentFs.Fuse;
using AgentFs.Fuse.Protocol;

namespace AgentFs.Sandbox;

/// <summary>
/// Starts a command in a sandbox around a session: the branch mounted at the project's path, the rest of the
/// host read-only (everything it may do: <see cref="SandboxPolicy"/>). The returned handle owns the branch's
/// file system (its write lease), the FUSE session and the sandbox's processes.
/// </summary>
public static class Sandbox
{
    /// <summary>Checks the options, takes the branch, mounts it in the sandbox's own namespace and starts the
    /// command. Errors (bad path, branch in use, missing bubblewrap) are <see cref="AgentFsException"/>s with one
    /// line each, and leave nothing behind.</summary>
    public static SandboxedProcess Start(SandboxOptions options)
    {
        if (options.Command.Count == 0 || options.Command[0].Length == 0)
            throw new AgentFsException(Errno.EINVAL, "no command to run; put it after --, e.g. agentfs run STORE -- bash");
        // Without root, the launcher makes a user namespace first (see NamespaceLauncher); say what the machine
        // lacks for that before anything starts.
        bool unprivileged = LibC.geteuid() != 0;
        if (unprivileged) UnprivilegedMode.Check();
        if (options.Network == NetworkMode.Allow && options.AllowedDestinations is null)
            throw new AgentFsException(Errno.EINVAL, "--net allow= needs the destinations, e.g. --net allow=api.example.com,registry.npmjs.org");
        // Not root, the launcher makes the network namespace and a helper process (the agentfs command) listens
        // in it for the proxy: a library caller must say how to run agentfs.
        if (options.Network == NetworkMode.Allow && unprivileged && options.AgentfsCommand is not { Count: > 0 })
            throw new AgentFsException(Errno.EINVAL,
                "--net allow= without root needs SandboxOptions.AgentfsCommand (the agentfs command, which sets up the sandbox's network); run it as root, or use --net host or --net none");
        if (!File.Exists(options.StorePath))
            throw new AgentFsException(Errno.ENOENT, $"store {options.StorePath} does not exist; create it with 'agentfs init {options.StorePath} DIR'");

        var timing = StartTiming();
        void Mark(string what) => timing?.Invoke(what);
        Mark("start");
        SandboxRecord.Prepare();
        var store = AgentStore.Open(options.StorePath, options.Store);
        Mark("store open");
        AgentFileSystem? fs = null;
        Task<AgentFileSystem>? opening = null;
        FuseSession? session = null;
        var launcher = new NamespaceLauncher();
        string? stage = null;
        SandboxRecord? record = null;
        string? registryFile = null;
        SandboxNetworkNamespace? network = null;
        EgressProxy? proxy = null;
        try
        {
            string mountPath = Full(options.MountPath ?? store.BaseDirectoryPath);
            if (!Directory.Exists(mountPath))
                throw new AgentFsException(File.Exists(mountPath) ? Errno.ENOTDIR : Errno.ENOENT,
                    $"{mountPath} is not a directory; --at must name an existing directory, where the branch appears in the sandbox");
            if (mountPath == "/")
                throw new AgentFsException(Errno.EINVAL, "the session cannot be mounted at /; pass --at DIR");
            string storeDir = Path.GetDirectoryName(store.Path)!;
            if (Under(storeDir, mountPath))
                throw new AgentFsException(Errno.EINVAL,
                    $"the store {store.Path} and the mount path {mountPath} overlap; keep the store outside the project (or pass another --at)");

            var writable = new List<string>();
            foreach (string p in options.WritablePaths)
            {
                string full = Full(p);
                if (!Path.Exists(full))
                    throw new AgentFsException(Errno.ENOENT, $"--bind {full}: no such file or directory on the host");
                if (Under(full, mountPath))
                    throw new AgentFsException(Errno.EINVAL, $"--bind {full} lies inside the session at {mountPath}, which is writable already (a bind would write the base)");
                if (Under(store.Path, full) || Under(ControlPaths.ChooseRuntimeDirectory(), full))
                    throw new AgentFsException(Errno.EINVAL, $"--bind {full} would make the store {store.Path} or the control sockets writable inside; bind a narrower path");
                writable.Add(full);
            }
            var readOnly = new List<string>();
            foreach (string p in options.ReadOnlyPaths)
            {
                string full = Full(p);
                if (!Path.Exists(HostView(full, mountPath, store.BaseDirectoryPath)))
                    throw new AgentFsException(Errno.ENOENT, $"--ro {full}: no such file or directory");
                readOnly.Add(full);
            }
            var hidden = new List<(string, bool)>();
            foreach (string p in options.HiddenPaths)
            {
                string full = Full(p);
                string seen = HostView(full, mountPath, store.BaseDirectoryPath);
                if (Directory.Exists(seen)) hidden.Add((full, true));
                else if (File.Exists(seen)) hidden.Add((full, false));
                // Nothing there: nothing to hide.
            }
            string cwd = Full(options.WorkingDirectory ?? Environment.CurrentDirectory);
            if (!Under(cwd, mountPath)) cwd = mountPath;

            Mark("checked");
            // The branch is taken (its lease, the view, its control socket: 30-50 ms, mostly SQLite's fsyncs) on
            // another core while the stage is made and the launcher mounts. The launcher then waits: it becomes
            // bwrap only once the branch is ours (launcher.Go), and is ended without starting anything otherwise.
            opening = Task.Run(() => store.OpenFileSystem(options.Branch));
            string socket = ControlPaths.SocketFor(store.StoreId, options.Branch);
            stage = BaseStage.Create();
            // Host Unix sockets to cover (see HostUnixSockets): listed for the launcher, which binds /dev/null over
            // each in its namespace and skips one that is gone by then (bwrap would fail on it).
            BaseStage.WriteSocketsToHide(stage, HostUnixSockets.ToHide([mountPath, .. writable, .. hidden.Select(h => h.Item1)]));
            var layout = new SandboxLayout(mountPath, store.Path, store.StoreId, options.Branch, cwd, stage,
                socket, SeccompFd: -1, AgentfsScriptFd: null, writable, readOnly, hidden, unprivileged);

            // The same file system as `agentfs mount` serves (ACLs, caching, set-id handling).
            var mountOptions = new AgentMountOptions { Branch = options.Branch, Log = options.Log };
            AgentFuseFileSystem? adapter = null;
            var fuseOptions = AgentMount.FuseOptions(mountOptions);
            if (options.Network == NetworkMode.Allow && unprivileged)
            {
                launcher.NetworkHelper = [.. options.AgentfsCommand!, SandboxNetworkHelper.Verb, SandboxNetworkHelper.Port.ToString()];
                layout = layout with { ProxyPort = SandboxNetworkHelper.Port };
            }
            else if (options.Network == NetworkMode.Allow)
            {
                network = SandboxNetworkNamespace.Create();
                launcher.NetworkNamespaceFd = network.Fd;
                layout = layout with { ProxyPort = network.ProxyPort };
                proxy = new EgressProxy(network.Listener, options.AllowedDestinations!, options.NetworkLog);
                Mark("network namespace and proxy");
            }
            byte[]? script = null;
            if (options.AgentfsCommand is { Count: > 0 } cmd)
            {
                // The program (the native agentfs, or AgentFs.Cli.dll after the dotnet host) runs from its own
                // directory, bound inside: where it lies on the host may be private or hidden there.
                string program = Full(cmd[^1]);
                layout = layout with { ProgramDirectory = Path.GetDirectoryName(program) };
                script = AgentfsScript([.. cmd.Take(cmd.Count - 1), Path.Combine(SandboxPolicy.ProgramDirectoryInside, Path.GetFileName(program))]);
            }
            session = FuseSession.ServeMountedElsewhere(mountPath, () =>
            {
                fs = opening.GetAwaiter().GetResult();
                Mark("fs open");
                launcher.Go();
                return adapter = new AgentFuseFileSystem(fs, mountOptions.EntryTimeout) { Log = options.Log };
            }, fuseOptions, (fd, data) =>
            {
                launcher.Start(unprivileged, mountPath, store.BaseDirectoryPath, stage, storeDir, fd, data,
                    (seccompFd, scriptFd) => SandboxPolicy.BwrapArguments(options, layout with { SeccompFd = seccompFd, AgentfsScriptFd = scriptFd }),
                    SandboxPolicy.CommandInside(options.Command), script);
                Mark("mounted");
                if (launcher.HelperNetwork is { } made)
                {
                    network = made;
                    proxy = new EgressProxy(network.Listener, options.AllowedDestinations!, options.NetworkLog);
                }
                // Listed for agentfs status and stop before the kernel hears INIT: until then no request of the
                // command on the session is answered, so nothing it does can be seen before it can be stopped.
                record = new SandboxRecord(store.Path, options.Branch, mountPath, Environment.ProcessId, launcher.Pid, options.Command,
                    options.Network == NetworkMode.Allow ? $"allow={options.AllowedDestinations}" : options.Network.ToString().ToLowerInvariant(),
                    DateTimeOffset.UtcNow);
                registryFile = record.Register();
                return launcher.Pid;
            });
            adapter!.Session = session;
            // The sandbox must be in the proxy's namespace, never in the host's network by mistake.
            if (network != null && !network.Holds(launcher.Pid))
                throw new AgentFsException(Errno.EIO, "the sandbox did not start in its own network namespace; nothing was run");
            network?.CloseDescriptor();
            Mark("init done");
            return new SandboxedProcess(options, store, fs!, session, launcher, layout, record!, registryFile!, proxy);
        }
        catch
        {
            launcher.Kill();
            proxy?.Dispose();
            network?.Dispose();
            session?.Dispose();
            // A branch taken on the other core is given back too (and the store is not closed under it).
            if (fs is null && opening is not null)
                try { fs = opening.GetAwaiter().GetResult(); }
                catch (Exception) { }
            fs?.Dispose();
            store.Dispose();
            if (stage != null) BaseStage.Remove(stage);
            if (!string.IsNullOrEmpty(registryFile))
                try { File.Delete(registryFile); } catch (Exception) { }
            throw;
        }
    }

    /// <summary>Whether a Ctrl-C on this process's terminal reaches a sandboxed command by itself: stdin is a
    /// terminal whose foreground process group is ours (the command shares it), so the caller need not stop it.</summary>
    public static bool TerminalSignalsReachCommand()
    {
        int fg = LibC.tcgetpgrp(0);
        return fg > 0 && fg == LibC.getpgrp();
    }

    /// <summary>With AGENTFS_RUN_TIMING=1, each phase of the start is reported on stderr: milliseconds since this
    /// process started (how benchmarks/README.md's start-up figures were taken); otherwise null.</summary>
    private static Action<string>? StartTiming()
    {
        if (Environment.GetEnvironmentVariable("AGENTFS_RUN_TIMING") != "1") return null;
        var started = System.Diagnostics.Process.GetCurrentProcess().StartTime;
        return what => Console.Error.WriteLine($"agentfs: timing: {what} at {(DateTime.Now - started).TotalMilliseconds:0} ms");
    }

    /// <summary>The file of the agentfs command inside: runs the same program as this process.</summary>
    private static byte[] AgentfsScript(IReadOnlyList<string> command)
    {
        var sb = new StringBuilder("#!/bin/sh\nexec");
        foreach (string part in command) sb.Append(" '").Append(part.Replace("'", "'\\''")).Append('\'');
        sb.Append(" \"$@\"\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static string Full(string path)
    {
        if (path.Length == 0 || path.Contains('\0'))
            throw new AgentFsException(Errno.EINVAL, $"'{path.Replace("\0", "\\0")}' is not a usable path");
        string full = Path.GetFullPath(path);
        return full.Length > 1 ? full.TrimEnd('/') : full;
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="dir"/> or lies below it.</summary>
    internal static bool Under(string path, string dir) =>
        path == dir || dir == "/" || path.StartsWith(dir + "/", StringComparison.Ordinal);

    /// <summary>Where a path inside the sandbox is seen on the host to check it exists: below the mount path,
    /// in the base (the session starts from it).</summary>
    private static string HostView(string path, string mountPath, string baseDirectory) =>
        Under(path, mountPath) ? baseDirectory + path[mountPath.Length..] : path;
}
