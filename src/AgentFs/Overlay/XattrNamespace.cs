namespace AgentFs.Overlay;

/// <summary>
/// The extended attribute namespaces a Linux local file system (ext4, tmpfs) keeps: user., trusted., security.
/// and the two POSIX ACL names of system.; any other name is refused with EOPNOTSUPP, and a namespace prefix with
/// nothing after it with EINVAL, as there. FUSE passes every name through to the daemon, so the library decides.
/// (Who may use trusted., and user. only on files and directories, the kernel checks before asking us.)
/// </summary>
internal static class XattrNamespace
{
    private static readonly string[] Prefixes = ["user.", "trusted.", "security."];

    /// <summary>0 when <paramref name="name"/> may be stored; else the errno a local file system answers.</summary>
    public static int Check(string name)
    {
        foreach (string prefix in Prefixes)
            if (name.StartsWith(prefix, StringComparison.Ordinal)) return name.Length == prefix.Length ? Errno.EINVAL : 0;
        return PosixAcl.IsAclName(name) ? 0 : Errno.EOPNOTSUPP;
    }
}
