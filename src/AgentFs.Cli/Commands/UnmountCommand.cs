using System.CommandLine;
using AgentFs.Fuse;
using AgentFs.Sandbox;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs unmount MOUNTPOINT</c>: unmounts an AgentFs mount and waits (up to --timeout) until the
/// process serving it has committed everything and released the branch. Exits 1, naming what was not saved,
/// when that process could not commit its last changes (a full disk). A PATH where a sandbox of <c>agentfs run</c>
/// has its session (as <c>agentfs status</c> lists it) ends that sandbox, like <c>agentfs stop PATH</c>.
/// </summary>
internal static class UnmountCommand
{
    public static Command Create(CommandIo io)
    {
        var mountPoint = new Argument<string>("MOUNTPOINT") { Description = "Where the branch is mounted (or the path of a running sandbox's session)" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the serving process to finish", DefaultValueFactory = _ => 60 };
        var cmd = new Command("unmount", "Unmount an AgentFs mount (commits and releases the branch)") { mountPoint, timeout };
        cmd.SetAction(r =>
        {
            string mp = Path.GetFullPath(r.GetValue(mountPoint)!).TrimEnd('/');
            if (!AgentMount.IsMountPoint(mp))
            {
                // A sandbox's session is mounted in the sandbox's own namespace, not here: unmounting it ends the sandbox.
                var sandboxes = SandboxRecord.List().Where(s => s.MountPath == mp).ToList();
                if (sandboxes.Count > 1)
                    throw new AgentFsException(Errno.EINVAL,
                        $"{sandboxes.Count} sandboxes run at {mp} (branches {string.Join(", ", sandboxes.Select(s => s.Branch))}); end one with 'agentfs stop {mp} --branch B'");
                if (sandboxes.Count == 1)
                {
                    RunningSandboxes.Stop(sandboxes[0], TimeSpan.FromSeconds(r.GetValue(timeout)));
                    return Program.ExitOk;
                }
                throw new AgentFsException(Errno.EINVAL, $"{mp} is not mounted; 'agentfs status' lists the mounts");
            }
            // The registry names the serving process to wait for. A runtime directory another user could write is
            // not read (its records could be planted), but the mount itself is still taken down: the kernel knows it.
            MountRecord? record = null;
            string? registryRefused = null;
            try { record = AgentMount.List().FirstOrDefault(m => m.MountPoint == mp); }
            catch (AgentFsException e) { registryRefused = e.Message; }
            if (record == null && !IsAgentFs(mp))
                throw new AgentFsException(Errno.EINVAL, $"{mp} is not an AgentFs mount; use umount for it");
            if (AgentMount.WhyNotAllowedToUnmount(mp) is { } notAllowed)
                throw new AgentFsException(Errno.EPERM, notAllowed);
            int errno = AgentMount.UnmountPath(mp);
            if (errno != 0 && AgentMount.IsMountPoint(mp))
                throw new AgentFsException(errno, $"cannot unmount {mp} ({Errno.Name(errno)}); close the files open on it (fuser -vm {mp}) and try again");
            if (registryRefused != null)
                io.Error.WriteLine($"agentfs: warning: {mp} is unmounted, but without waiting for the process serving it to commit " +
                                   $"(its log, STORE.log, says when it has; the control socket and mount registry were not trusted): {registryRefused}");
            if (record != null && !WaitForExit(record.Pid, TimeSpan.FromSeconds(r.GetValue(timeout))))
                throw new AgentFsException(Errno.EBUSY,
                    $"{mp} is unmounted but process {record.Pid} still runs (files may still be open on the detached mount); it finishes when they are closed");
            // The serving process commits last of all; if that failed, it left what was not saved, and why.
            if (record != null && AgentMount.TakeFailure(record) is { } notSaved)
                throw new AgentFsException(Errno.EIO, $"{notSaved} (see {record.Store}.log)");
            return Program.ExitOk;
        });
        return cmd;
    }

    private static bool IsAgentFs(string mp)
    {
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            var parts = line.Split(' ');
            int dash = Array.IndexOf(parts, "-");
            if (parts.Length > 4 && parts[4] == mp && dash > 0 && dash + 1 < parts.Length) return parts[dash + 1] == "fuse.agentfs";
        }
        return false;
    }

    private static bool WaitForExit(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Directory.Exists($"/proc/{pid}") && !IsZombie(pid))
        {
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(20);
        }
        return true;
    }

    private static bool IsZombie(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z'); }
        catch (Exception) { return true; }
    }
}
