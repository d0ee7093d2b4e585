namespace AgentFs.Fuse.Protocol;

/// <summary>Mounting, serving or unmounting failed. <see cref="Errno"/> is the Linux errno behind it, if any.</summary>
public sealed class FuseException : IOException
{
    public FuseException(string message, int errno = 0, Exception? inner = null)
        : base(errno == 0 ? message : $"{message} ({ErrnoText(errno)})", inner)
    {
        Errno = errno;
        HResult = errno;
    }

    public int Errno { get; }

    internal static string ErrnoText(int errno) =>
        $"errno {errno}: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)}";
}
