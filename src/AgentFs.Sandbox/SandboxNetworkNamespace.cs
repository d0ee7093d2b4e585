using AgentFs.Native;
using System.Net;
using System.Net.Sockets;
using AgentFs.Sandbox.Native;

namespace AgentFs.Sandbox;

/// <summary>
/// The network namespace of <c>--net allow=</c>: loopback only, like <c>--net none</c>, plus one listening socket
/// on its 127.0.0.1 that this process holds, where the proxy (<see cref="EgressProxy"/>) accepts the sandbox's
/// connections. A socket belongs to the namespace it was created in for its whole life, so the proxy serves
/// inside while it runs, connects outside, and needs no forwarder process inside and no socket file bound in.
///
/// Created on a thread of its own (a network namespace is a property of a thread, and unshare(CLONE_NEWNET) is
/// allowed in a multi-threaded process); the launcher's spawning thread enters it (setns) before it forks, so
/// the sandbox is started in it and bwrap does not unshare the network again.
/// </summary>
internal sealed class SandboxNetworkNamespace : IDisposable
{
    private SandboxNetworkNamespace(int fd, Socket listener)
    {
        Fd = fd;
        Listener = listener;
    }

    /// <summary>A descriptor of the namespace (close-on-exec), for <see cref="Enter"/>.</summary>
    public int Fd { get; private set; }

    /// <summary>Listening on 127.0.0.1 inside the namespace.</summary>
    public Socket Listener { get; }

    public int ProxyPort => ((IPEndPoint)Listener.LocalEndPoint!).Port;

    public static SandboxNetworkNamespace Create()
    {
        SandboxNetworkNamespace? created = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            int original = LibC.open("/proc/thread-self/ns/net", LibC.O_RDONLY | LibC.O_CLOEXEC);
            if (original < 0) { failure = new AgentFsException(LibC.LastErrno, "cannot open this process's network namespace"); return; }
            int fd = -1;
            Socket? listener = null;
            try
            {
                if (LibC.unshare(LibC.CLONE_NEWNET) != 0)
                    throw new AgentFsException(LibC.LastErrno, "cannot create a network namespace for --net allow= (it needs root, or CAP_SYS_ADMIN)");
                fd = LibC.open("/proc/thread-self/ns/net", LibC.O_RDONLY | LibC.O_CLOEXEC);
                if (fd < 0) throw new AgentFsException(LibC.LastErrno, "cannot open the sandbox's network namespace");
                SandboxCalls.BringLoopbackUp();
                listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                listener.Listen(128);
                created = new SandboxNetworkNamespace(fd, listener);
            }
            catch (Exception e)
            {
                listener?.Dispose();
                if (fd >= 0) LibC.close(fd);
                failure = e;
            }
            finally
            {
                // The thread ends here; going back anyway keeps it harmless should the runtime ever reuse it.
                LibC.setns(original, LibC.CLONE_NEWNET);
                LibC.close(original);
            }
        }) { Name = "agentfs-netns", IsBackground = true };
        thread.Start();
        thread.Join();
        if (failure is AgentFsException) throw failure;
        if (failure != null) throw new AgentFsException(Errno.EIO, $"cannot set up the network of --net allow= ({failure.Message})");
        return created!;
    }

    /// <summary>
    /// The namespace the launcher created without root (<see cref="SandboxNetworkHelper"/>): process
    /// <paramref name="pid"/> lives in it and listens on descriptor <paramref name="listenerFd"/>; a copy of that
    /// socket is taken, and the namespace held by a descriptor, while the helper waits.
    /// </summary>
    public static SandboxNetworkNamespace FromHelper(int pid, int listenerFd)
    {
        int fd = LibC.open($"/proc/{pid}/ns/net", LibC.O_RDONLY | LibC.O_CLOEXEC);
        if (fd < 0) throw new AgentFsException(LibC.LastErrno, "cannot open the sandbox's network namespace");
        int socket = SandboxCalls.TakeDescriptorOf(pid, listenerFd);
        if (socket < 0)
        {
            LibC.close(fd);
            throw new AgentFsException(Errno.EIO, $"cannot take the listening socket of the sandbox's network helper (pid {pid}, errno {-socket})");
        }
        return new SandboxNetworkNamespace(fd, new Socket(new SafeSocketHandle(socket, ownsHandle: true)));
    }

    /// <summary>Moves the calling thread into the namespace (processes it forks then start there).</summary>
    public static void Enter(int fd)
    {
        if (LibC.setns(fd, LibC.CLONE_NEWNET) != 0)
            throw new AgentFsException(LibC.LastErrno, "cannot enter the sandbox's network namespace");
    }

    /// <summary>Whether process <paramref name="pid"/> lives in this namespace (a check that the sandbox got it).</summary>
    public bool Holds(int pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/ns/net").LinkTarget is { } theirs
                && new FileInfo($"/proc/self/fd/{Fd}").LinkTarget == theirs;
        }
        catch (IOException) { return false; }
    }

    /// <summary>Closes the namespace's descriptor once the sandbox runs in it (the listener keeps serving).</summary>
    public void CloseDescriptor()
    {
        if (Fd >= 0) LibC.close(Fd);
        Fd = -1;
    }

    public void Dispose()
    {
        Listener.Dispose();
        CloseDescriptor();
    }
}
