using AgentFs.Sandbox;

namespace AgentFs.Cli.Commands;

/// <summary>
/// The sandboxes of <c>agentfs run</c> on this machine, as <c>agentfs status</c> lists them, seen from outside:
/// <c>agentfs stop</c> and <c>agentfs unmount</c> end one. Ending it is asking its <c>agentfs run</c> to (SIGTERM):
/// that passes SIGTERM on to every process in the sandbox, SIGKILLs what still runs 5 s later, commits the last
/// writes and frees the branch, then exits; this waits for that.
/// </summary>
internal static partial class RunningSandboxes
{
    /// <summary>Sends SIGTERM to the sandbox's agentfs run and waits up to <paramref name="timeout"/> for it to end.</summary>
    public static void Stop(SandboxRecord sandbox, TimeSpan timeout)
    {
        string what = $"the sandbox of branch {sandbox.Branch} of {sandbox.Store} (agentfs run, process {sandbox.Pid})";
        // The record names a live pid; make sure it is still that agentfs run (its launcher is its child), not a
        // process that got the pid after it.
        if (ParentOf(sandbox.SandboxPid) != sandbox.Pid) return; // it ended meanwhile
        if (Native.Kill(sandbox.Pid, 15) != 0 && Directory.Exists($"/proc/{sandbox.Pid}"))
            throw new AgentFsException(Errno.EPERM, $"cannot signal {what}; run agentfs stop as its user (or root)");
        var deadline = DateTime.UtcNow + timeout;
        while (IsRunning(sandbox.Pid))
        {
            if (DateTime.UtcNow > deadline)
                throw new AgentFsException(Errno.EBUSY, $"{what} still runs {timeout.TotalSeconds:0} s after SIGTERM; kill -KILL {sandbox.Pid} ends it too (its writes are committed as far as they got)");
            Thread.Sleep(20);
        }
    }

    private static bool IsRunning(int pid)
    {
        try { return !File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z'); }
        catch (IOException) { return false; }
    }

    private static int ParentOf(int pid)
    {
        try { return int.Parse(File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].Split(' ')[1]); }
        catch (Exception) { return -1; }
    }

    private static partial class Native
    {
        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill")]
        public static partial int Kill(int pid, int signal);
    }
}
