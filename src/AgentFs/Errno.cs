namespace AgentFs;

/// <summary>Linux errno values: the one error language of the library and the FUSE boundary.</summary>
public static class Errno
{
    public const int EPERM = 1, ENOENT = 2, EIO = 5, EBADF = 9, EAGAIN = 11, EACCES = 13, EBUSY = 16,
        EEXIST = 17, EXDEV = 18, ENODEV = 19, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, EFBIG = 27, ENOSPC = 28,
        EROFS = 30, EMLINK = 31, ERANGE = 34, ENAMETOOLONG = 36, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40,
        ENODATA = 61, EOPNOTSUPP = 95, ESTALE = 116;

    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM", ENOENT => "ENOENT", EIO => "EIO", EBADF => "EBADF", EAGAIN => "EAGAIN",
        EACCES => "EACCES", EBUSY => "EBUSY", EEXIST => "EEXIST", EXDEV => "EXDEV", ENODEV => "ENODEV", ENOTDIR => "ENOTDIR",
        EISDIR => "EISDIR", EINVAL => "EINVAL", EFBIG => "EFBIG", ENOSPC => "ENOSPC", EROFS => "EROFS",
        EMLINK => "EMLINK", ERANGE => "ERANGE", ENAMETOOLONG => "ENAMETOOLONG", ENOSYS => "ENOSYS",
        ENOTEMPTY => "ENOTEMPTY", ELOOP => "ELOOP", ENODATA => "ENODATA", EOPNOTSUPP => "EOPNOTSUPP",
        ESTALE => "ESTALE", _ => "E" + errno,
    };
}
