namespace AgentFs;

/// <summary>st_mode bits: the file type in S_IFMT and the permission bits below it.</summary>
public static class PosixMode
{
    public const uint S_IFMT = 0xF000, S_IFSOCK = 0xC000, S_IFLNK = 0xA000, S_IFREG = 0x8000, S_IFBLK = 0x6000,
        S_IFDIR = 0x4000, S_IFCHR = 0x2000, S_IFIFO = 0x1000;
    public const uint PermissionMask = 0xFFF;
    public const uint S_ISUID = 0x800, S_ISGID = 0x400, S_ISVTX = 0x200;

    public static bool IsDirectory(uint mode) => (mode & S_IFMT) == S_IFDIR;
    public static bool IsRegular(uint mode) => (mode & S_IFMT) == S_IFREG;
    public static bool IsSymlink(uint mode) => (mode & S_IFMT) == S_IFLNK;

    /// <summary>Whether the type bits are one of the seven POSIX file types (0 and the eight other values are none).</summary>
    public static bool IsKnownType(uint mode) => (mode & S_IFMT) is S_IFREG or S_IFDIR or S_IFLNK or S_IFIFO or S_IFSOCK or S_IFCHR or S_IFBLK;

    /// <summary>
    /// The name of a mode's file type wherever one is written (the command's JSON and listings, Agent Trace records):
    /// file, directory, symlink, fifo, socket, char_device, block_device, or unknown.
    /// </summary>
    public static string TypeName(uint mode) => (mode & S_IFMT) switch
    {
        S_IFREG => "file",
        S_IFDIR => "directory",
        S_IFLNK => "symlink",
        S_IFIFO => "fifo",
        S_IFSOCK => "socket",
        S_IFCHR => "char_device",
        S_IFBLK => "block_device",
        _ => "unknown",
    };

    /// <summary>Permission and set-id/sticky bits as four octal digits: "0644", "1777".</summary>
    public static string OctalPermissions(uint mode) => Convert.ToString(mode & PermissionMask, 8).PadLeft(4, '0');

    /// <summary>The d_type of readdir for a mode.</summary>
    public static byte DirentType(uint mode) => (byte)((mode & S_IFMT) >> 12);

    /// <summary>ls -l's one-letter type and rwx string, e.g. "drwxr-xr-x".</summary>
    public static string ToLsString(uint mode)
    {
        char t = (mode & S_IFMT) switch
        {
            S_IFDIR => 'd', S_IFLNK => 'l', S_IFIFO => 'p', S_IFSOCK => 's', S_IFCHR => 'c', S_IFBLK => 'b', _ => '-',
        };
        Span<char> s = stackalloc char[10];
        s[0] = t;
        const string rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) s[i + 1] = (mode & (1u << (8 - i))) != 0 ? rwx[i] : '-';
        if ((mode & 0x800) != 0) s[3] = (mode & 0x40) != 0 ? 's' : 'S';
        if ((mode & 0x400) != 0) s[6] = (mode & 0x8) != 0 ? 's' : 'S';
        if ((mode & 0x200) != 0) s[9] = (mode & 0x1) != 0 ? 't' : 'T';
        return new string(s);
    }
}
