using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Tests;

/// <summary>The xattr system calls, for checking a mount without the attr tools.</summary>
internal static unsafe partial class Xattr
{
    [LibraryImport("libc", EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LSetXattr(string path, string name, byte* value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint LGetXattr(string path, string name, byte* value, nuint size);

    [LibraryImport("libc", EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint LListXattr(string path, byte* list, nuint size);

    [LibraryImport("libc", EntryPoint = "lremovexattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LRemoveXattr(string path, string name);

    public static int Set(string path, string name, byte[] value, int flags = 0)
    {
        fixed (byte* p = value)
            return LSetXattr(path, name, p, (nuint)value.Length, flags) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>Returns the value, or null with the errno.</summary>
    public static byte[]? Get(string path, string name, out int errno)
    {
        errno = 0;
        nint size = LGetXattr(path, name, null, 0);
        if (size < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }
        byte[] value = new byte[size];
        fixed (byte* p = value)
            size = LGetXattr(path, name, p, (nuint)value.Length);
        if (size < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }
        return value[..(int)size];
    }

    /// <summary>Asks for the value with a buffer that is too small; returns the errno.</summary>
    public static int GetIntoSmallBuffer(string path, string name)
    {
        byte* tiny = stackalloc byte[1];
        return LGetXattr(path, name, tiny, 1) < 0 ? Marshal.GetLastPInvokeError() : 0;
    }

    public static string[] List(string path)
    {
        nint size = LListXattr(path, null, 0);
        if (size <= 0)
            return [];
        byte[] list = new byte[size];
        fixed (byte* p = list)
            size = LListXattr(path, p, (nuint)list.Length);
        return System.Text.Encoding.UTF8.GetString(list, 0, (int)size).Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    public static int Remove(string path, string name) =>
        LRemoveXattr(path, name) == 0 ? 0 : Marshal.GetLastPInvokeError();
}
