namespace AgentFs.Fuse.Protocol;

/// <summary>Mounting, serving or unmounting failed. <see cref="Errno"/> is the Linux errno behind it, if any.</summary>
public sealed class FuseException : IOException
{
    /// <summary>A failure described by <paramref name="message"/>, with the errno behind it (0: none) named after it.</summary>
    public FuseException(string message, int errno = 0, Exception? inner = null)
        : base(errno == 0 ? message : $"{message} ({ErrnoText(errno)})", inner)
    {
        Errno = errno;
        HResult = errno;
    }

    /// <summary>The Linux errno behind the failure, or 0.</summary>
    public int Errno { get; }

    internal static string ErrnoText(int errno) =>
        $"errno {errno}: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)}";
}
