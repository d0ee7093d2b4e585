using System.Net;
using System.Net.Sockets;
using AgentFs.Sandbox.Native;

namespace AgentFs.Sandbox;

/// <summary>
/// The short-lived process that gives <c>--net allow=</c> its listening socket when <c>agentfs run</c> is not root.
/// Without root, <c>agentfs run</c> can neither create nor enter a network namespace itself (both need
/// CAP_SYS_ADMIN, and unshare(CLONE_NEWUSER) refuses a multi-threaded process), so the launcher creates it with the
/// sandbox's user namespace (<c>unshare --user --net</c>, see <see cref="NamespaceLauncher"/>) and runs this there:
/// it sets the loopback up, listens on 127.0.0.1:PORT, names its pid and the descriptor on stdout (the launcher's
/// ready pipe), and waits on stdin (the go pipe) until <c>agentfs run</c> has taken a copy (pidfd_getfd). A socket
/// stays in the namespace it was created in, so <c>agentfs run</c> then serves the proxy inside while it runs
/// outside, exactly as when it is root (<see cref="SandboxNetworkNamespace"/>).
/// </summary>
public static class SandboxNetworkHelper
{
    /// <summary>The hidden first argument of the <c>agentfs</c> command that runs <see cref="Run"/>.</summary>
    public const string Verb = "__sandbox-listen";

    /// <summary>The proxy's port inside: the namespace is new and empty, so a fixed one is free (squid's).</summary>
    internal const int Port = 3128;

    /// <summary>Runs the helper; returns its exit code (1 with one line on stderr when the namespace refuses).</summary>
    public static int Run(IReadOnlyList<string> args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        if (args.Count != 1 || !int.TryParse(args[0], out int port) || port is < 1 or > 65535)
        {
            stderr.WriteLine($"agentfs: {Verb} PORT is run by agentfs run inside a sandbox's namespaces, not by hand");
            return 2;
        }
        try
        {
            SandboxCalls.BringLoopbackUp();
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            listener.Listen(128);
            stdout.Write($"listen {Environment.ProcessId} {listener.SafeHandle.DangerousGetHandle()}\n");
            stdout.Flush();
            stdin.ReadLine();
            return 0;
        }
        catch (Exception e) when (e is AgentFsException or SocketException)
        {
            stderr.WriteLine($"agentfs: cannot set up the network of --net allow= in the sandbox's namespace: {e.Message}");
            return 1;
        }
    }
}
