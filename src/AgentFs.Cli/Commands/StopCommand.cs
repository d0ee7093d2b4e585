using System.CommandLine;
using AgentFs.Sandbox;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs stop STORE|PATH|PID [--branch B] [--timeout S]</c>: ends a running sandbox of <c>agentfs run</c>
/// cleanly from outside: SIGTERM to every process in it, SIGKILL to what still runs 5 s later, the last writes
/// committed, the branch freed. The sandbox is named as <c>agentfs status</c> lists it: by its store (branch main
/// unless --branch), by its path (the one sandbox there, or the one of --branch), or by the pid of its agentfs run.
/// Exits 0 once that agentfs run has ended (its own exit code tells how the command ended).
/// </summary>
internal static class StopCommand
{
    public static Command Create(CommandIo io)
    {
        var target = new Argument<string>("TARGET") { Description = "The sandbox: its store, its path inside, or the pid of its agentfs run (as 'agentfs status' lists them)" };
        var branch = new Option<string?>("--branch", "-b") { Description = "Branch of the sandbox (default: main for a store; the only one at a path)", HelpName = "B" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the sandbox to end", DefaultValueFactory = _ => 60 };
        var cmd = new Command("stop", "End a running sandbox of 'agentfs run' (SIGTERM, SIGKILL after 5 s; commits and frees the branch)") { target, branch, timeout };
        cmd.SetAction(r =>
        {
            string t = r.GetValue(target)!;
            string? b = r.GetValue(branch);
            var all = SandboxRecord.List();
            List<SandboxRecord> found;
            string named;
            if (int.TryParse(t, out int pid) && !Path.Exists(t))
            {
                found = all.Where(s => s.Pid == pid && (b == null || s.Branch == b)).ToList();
                named = $"process {pid}";
            }
            else
            {
                string full = Path.GetFullPath(StoreAccess.CheckPath(t, "store or path")).TrimEnd('/');
                if (full.Length == 0) full = "/";
                if (File.Exists(full))
                {
                    found = all.Where(s => s.Store == full && s.Branch == (b ?? "main")).ToList();
                    named = $"branch {b ?? "main"} of {full}";
                }
                else
                {
                    found = all.Where(s => s.MountPath == full && (b == null || s.Branch == b)).ToList();
                    named = b == null ? full : $"{full} (branch {b})";
                }
            }
            if (found.Count == 0)
                throw new AgentFsException(Errno.ENOENT, $"no sandbox of agentfs run is running for {named}; 'agentfs status' lists them");
            if (found.Count > 1)
                throw new AgentFsException(Errno.EINVAL,
                    $"{found.Count} sandboxes run at {named} (branches {string.Join(", ", found.Select(s => s.Branch))}); name one with --branch");
            RunningSandboxes.Stop(found[0], TimeSpan.FromSeconds(r.GetValue(timeout)));
            return Program.ExitOk;
        });
        return cmd;
    }
}
