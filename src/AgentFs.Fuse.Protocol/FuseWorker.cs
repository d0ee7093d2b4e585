using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

/// <summary>
/// One reader thread: it reads a request from its own /dev/fuse descriptor, calls the filesystem inline,
/// and writes the reply on the same descriptor (the kernel matches a reply to the queue of the descriptor
/// that read the request). Its two buffers are allocated once, page-aligned, outside the GC heap: the
/// request buffer holds the largest WRITE (max_write plus headers), the reply buffer the largest READ.
/// </summary>
internal sealed unsafe partial class FuseWorker
{
    /// <summary>Room for the request headers in front of a max_write payload (libfuse uses a page too).</summary>
    public const int HeaderRoom = 4096;

    private const int NoReply = int.MinValue;
    private static readonly int OutHeaderSize = sizeof(FuseOutHeader);

    private readonly FuseSession _session;
    private readonly IFuseFileSystem _fs;
    private readonly byte* _request;
    private readonly int _requestCapacity;
    private readonly byte* _reply;
    private readonly int _replyCapacity;
    private readonly Thread _thread;
    private long _currentUnique;
    private long _interruptedUnique;
    private int _buffersFreed;

    public FuseWorker(FuseSession session, IFuseFileSystem fs, int fd, bool ownsFd, int index, int maxPayload)
    {
        _session = session;
        _fs = fs;
        Fd = fd;
        OwnsFd = ownsFd;
        _requestCapacity = maxPayload + HeaderRoom;
        _replyCapacity = maxPayload + HeaderRoom;
        _request = (byte*)NativeMemory.AlignedAlloc((nuint)_requestCapacity, 4096);
        _reply = (byte*)NativeMemory.AlignedAlloc((nuint)_replyCapacity, 4096);
        _thread = new Thread(Run) { IsBackground = true, Name = $"fuse-{index}" };
    }

    public int Fd { get; }

    /// <summary>False when the descriptor is shared with worker 0 (cloning failed).</summary>
    public bool OwnsFd { get; }

    public bool HasExited { get; private set; }

    public void Start() => _thread.Start();

    public bool Join(TimeSpan timeout) => _thread.Join(timeout);

    public bool IsInterrupted(ulong unique) => unique != 0 && (ulong)Volatile.Read(ref _interruptedUnique) == unique;

    /// <summary>Marks the request <paramref name="unique"/> interrupted if this worker is handling it.</summary>
    public bool TryMarkInterrupted(ulong unique)
    {
        if (unique == 0 || (ulong)Volatile.Read(ref _currentUnique) != unique)
            return false;
        Volatile.Write(ref _interruptedUnique, (long)unique);
        return true;
    }

    /// <summary>Frees the buffers; only once the thread has exited.</summary>
    public void FreeBuffers()
    {
        if (!HasExited || Interlocked.Exchange(ref _buffersFreed, 1) != 0)
            return;
        NativeMemory.AlignedFree(_request);
        NativeMemory.AlignedFree(_reply);
    }

    private void Run()
    {
        try
        {
            while (true)
            {
                nint length = Libc.Read(Fd, _request, (nuint)_requestCapacity);
                if (length < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    // EINTR: a signal; ENOENT: the request was interrupted before we got it; EAGAIN: spurious.
                    if (errno is LinuxErrno.EINTR or LinuxErrno.ENOENT or LinuxErrno.EAGAIN)
                        continue;
                    // ENODEV: unmounted (or aborted); ECONNABORTED: aborted with FUSE_ABORT_ERROR.
                    if (errno is not (LinuxErrno.ENODEV or LinuxErrno.ECONNABORTED or LinuxErrno.EBADF))
                        _session.Log($"{_thread.Name}: reading /dev/fuse failed: {FuseException.ErrnoText(errno)}; this reader stops");
                    break;
                }
                if (length == 0)
                    break;
                Handle((int)length);
            }
        }
        catch (Exception e)
        {
            _session.Log($"{_thread.Name}: reader crashed: {e}");
        }
        finally
        {
            HasExited = true;
            _session.OnWorkerExited(this);
        }
    }

    private void Handle(int length)
    {
        if (length < sizeof(FuseInHeader))
        {
            _session.Log($"{_thread.Name}: short request of {length} bytes ignored");
            return;
        }
        var request = new ReadOnlySpan<byte>(_request, length);
        FuseInHeader header = MemoryMarshal.Read<FuseInHeader>(request);
        int total = (int)Math.Min(header.Len, (uint)length);
        ReadOnlySpan<byte> payload = request.Slice(sizeof(FuseInHeader), Math.Max(0, total - sizeof(FuseInHeader)));

        Volatile.Write(ref _currentUnique, (long)header.Unique);
        long started = _session.Stats is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
        int result;
        try
        {
            result = Dispatch(in header, payload);
        }
        catch (Exception e)
        {
            _session.Log($"{header.Opcode} on node {header.NodeId} threw; answering EIO: {e}");
            result = ExpectsReply(header.Opcode) ? -LinuxErrno.EIO : NoReply;
        }
        finally
        {
            Volatile.Write(ref _currentUnique, 0);
            Volatile.Write(ref _interruptedUnique, 0);
        }

        if (result != NoReply)
            SendReply(header.Unique, result);
        _session.Stats?.Record(header.Opcode, started);
        if (header.Opcode == FuseOpcode.Init)
            _session.OnInitReplied(result >= 0);
    }

    private static bool ExpectsReply(FuseOpcode opcode) =>
        opcode is not (FuseOpcode.Forget or FuseOpcode.BatchForget or FuseOpcode.Interrupt or FuseOpcode.NotifyReply);

    /// <summary>Sends a reply: a non-negative result is the payload length, a negative one an errno.</summary>
    private void SendReply(ulong unique, int result)
    {
        ref FuseOutHeader header = ref Unsafe.AsRef<FuseOutHeader>(_reply);
        int payloadLength = result >= 0 ? result : 0;
        header.Len = (uint)(OutHeaderSize + payloadLength);
        header.Error = result >= 0 ? 0 : result;
        header.Unique = unique;
        nint written = Libc.Write(Fd, _reply, header.Len);
        if (written < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            // ENOENT: the kernel gave up on the request (interrupted); ENODEV: the connection is gone.
            if (errno is not (LinuxErrno.ENOENT or LinuxErrno.ENODEV))
                _session.Log($"{_thread.Name}: writing the reply to request {unique} failed: {FuseException.ErrnoText(errno)}");
        }
    }

    /// <summary>The reply payload area (after the out header).</summary>
    private Span<byte> ReplyPayload => new(_reply + OutHeaderSize, _replyCapacity - OutHeaderSize);

    /// <summary>A zeroed reply struct at the start of the payload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref T ReplyStruct<T>(int offset = 0) where T : unmanaged
    {
        byte* at = _reply + OutHeaderSize + offset;
        NativeMemory.Clear(at, (nuint)sizeof(T));
        return ref Unsafe.AsRef<T>(at);
    }
}
