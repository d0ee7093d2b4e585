using System.CommandLine;
using AgentFs.Fuse;

namespace AgentFs.Cli.Commands;

/// <summary><c>agentfs status [--json]</c>: the mounted sessions on this machine (store, branch, mountpoint, pid).</summary>
internal static class StatusCommand
{
    public static Command Create(CommandIo io)
    {
        var json = CommonOptions.Json();
        var cmd = new Command("status", "List mounted sessions: store, branch, mountpoint, pid") { json };
        cmd.SetAction(r =>
        {
            var mounts = AgentMount.List();
            if (r.GetValue(json))
            {
                io.WriteJson(mounts.Select(m => new { store = m.Store, branch = m.Branch, mountpoint = m.MountPoint, pid = m.Pid,
                    started = m.Started, read_only = m.ReadOnly }).ToList());
                return Program.ExitOk;
            }
            if (mounts.Count == 0)
            {
                io.Out.WriteLine("no mounts");
                return Program.ExitOk;
            }
            io.Out.WriteLine("STORE\tBRANCH\tMOUNTPOINT\tPID");
            foreach (var m in mounts) io.Out.WriteLine($"{m.Store}\t{m.Branch}{(m.ReadOnly ? " (read-only)" : "")}\t{m.MountPoint}\t{m.Pid}");
            return Program.ExitOk;
        });
        return cmd;
    }
}
