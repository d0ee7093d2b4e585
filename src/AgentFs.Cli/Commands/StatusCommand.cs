using System.CommandLine;
using AgentFs.Cli.Output;
using AgentFs.Fuse;
using AgentFs.Sandbox;

namespace AgentFs.Cli.Commands;

/// <summary><c>agentfs status [--json]</c>: the mounted sessions on this machine (store, branch, mountpoint, pid), and
/// the running sandboxes of <c>agentfs run</c> (store, branch, path inside, pid, network, command).</summary>
internal static class StatusCommand
{
    public static Command Create(CommandIo io)
    {
        var json = CommonOptions.Json();
        var cmd = new Command("status", "List mounted sessions: store, branch, mountpoint, pid") { json };
        cmd.SetAction(r =>
        {
            var mounts = AgentMount.List();
            var sandboxes = SandboxRecord.List();
            if (r.GetValue(json))
            {
                // A sandbox is listed like a mount (its path inside as mountpoint), with a "sandbox" object more.
                io.WriteJson(mounts.Select(m => new StatusJson(m.Store, m.Branch, m.MountPoint, m.Pid, m.Started, m.ReadOnly, null))
                    .Concat(sandboxes.Select(s => new StatusJson(s.Store, s.Branch, s.MountPath, s.Pid, s.Started, false,
                        new SandboxStatusJson(s.Command, s.Network, s.SandboxPid)))).ToList(), CliJson.Document.ListStatusJson);
                return Program.ExitOk;
            }
            if (mounts.Count == 0 && sandboxes.Count == 0)
            {
                io.Out.WriteLine("no mounts");
                return Program.ExitOk;
            }
            if (mounts.Count > 0)
            {
                io.Out.WriteLine("STORE\tBRANCH\tMOUNTPOINT\tPID");
                foreach (var m in mounts) io.Out.WriteLine($"{m.Store}\t{m.Branch}{(m.ReadOnly ? " (read-only)" : "")}\t{m.MountPoint}\t{m.Pid}");
            }
            if (sandboxes.Count > 0)
            {
                io.Out.WriteLine("STORE\tBRANCH\tSANDBOX PATH\tPID\tNET\tCOMMAND");
                foreach (var s in sandboxes)
                    io.Out.WriteLine($"{s.Store}\t{s.Branch}\t{s.MountPath}\t{s.Pid}\t{s.Network}\t{string.Join(' ', s.Command)}");
            }
            return Program.ExitOk;
        });
        return cmd;
    }
}
