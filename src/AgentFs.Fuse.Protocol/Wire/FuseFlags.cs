namespace AgentFs.Fuse.Protocol;

/// <summary>
/// Capability bits exchanged in FUSE_INIT. Bits 0..31 travel in <c>flags</c>; bits 32..63 travel in
/// <c>flags2</c> and only when <see cref="InitExt"/> is set by both sides.
/// </summary>
[Flags]
public enum FuseInitFlags : ulong
{
    None = 0,
    AsyncRead = 1UL << 0,
    PosixLocks = 1UL << 1,
    FileOps = 1UL << 2,
    AtomicOTrunc = 1UL << 3,
    ExportSupport = 1UL << 4,
    BigWrites = 1UL << 5,
    DontMask = 1UL << 6,
    SpliceWrite = 1UL << 7,
    SpliceMove = 1UL << 8,
    SpliceRead = 1UL << 9,
    FlockLocks = 1UL << 10,
    HasIoctlDir = 1UL << 11,
    AutoInvalData = 1UL << 12,
    DoReadDirPlus = 1UL << 13,
    ReadDirPlusAuto = 1UL << 14,
    AsyncDio = 1UL << 15,
    WritebackCache = 1UL << 16,
    NoOpenSupport = 1UL << 17,
    ParallelDirOps = 1UL << 18,
    HandleKillPriv = 1UL << 19,
    PosixAcl = 1UL << 20,
    AbortError = 1UL << 21,
    MaxPages = 1UL << 22,
    CacheSymlinks = 1UL << 23,
    NoOpenDirSupport = 1UL << 24,
    ExplicitInvalData = 1UL << 25,
    MapAlignment = 1UL << 26,
    Submounts = 1UL << 27,
    HandleKillPrivV2 = 1UL << 28,
    SetXattrExt = 1UL << 29,
    InitExt = 1UL << 30,
    InitReserved = 1UL << 31,
    SecurityCtx = 1UL << 32,
    HasInodeDax = 1UL << 33,
    CreateSuppGroup = 1UL << 34,
    HasExpireOnly = 1UL << 35,
    DirectIoAllowMmap = 1UL << 36,
    Passthrough = 1UL << 37,
    NoExportSupport = 1UL << 38,
    HasResend = 1UL << 39,
    AllowIdmap = 1UL << 40,
    OverIoUring = 1UL << 41,
    RequestTimeout = 1UL << 42,
}

/// <summary>Flags of an open reply (FOPEN_* in fuse.h), set in <see cref="FuseOpenOut.OpenFlags"/>.</summary>
[Flags]
public enum FuseOpenFlags : uint
{
    None = 0,
    /// <summary>Bypass the page cache for this open file.</summary>
    DirectIo = 1 << 0,
    /// <summary>Keep the page cache of the inode across this open (the data did not change).</summary>
    KeepCache = 1 << 1,
    NonSeekable = 1 << 2,
    /// <summary>Let the kernel cache the directory listing (readdir) of an opendir.</summary>
    CacheDir = 1 << 3,
    Stream = 1 << 4,
    NoFlush = 1 << 5,
    ParallelDirectWrites = 1 << 6,
    /// <summary>Reads and writes go straight to the backing file named by <see cref="FuseOpenOut.BackingId"/>.</summary>
    Passthrough = 1 << 7,
}

/// <summary>Which fields of a SETATTR request are set (FATTR_* in fuse.h).</summary>
[Flags]
public enum FuseSetAttrValid : uint
{
    None = 0,
    Mode = 1 << 0,
    Uid = 1 << 1,
    Gid = 1 << 2,
    Size = 1 << 3,
    Atime = 1 << 4,
    Mtime = 1 << 5,
    Fh = 1 << 6,
    AtimeNow = 1 << 7,
    MtimeNow = 1 << 8,
    LockOwner = 1 << 9,
    Ctime = 1 << 10,
    KillSuidGid = 1 << 11,
}

/// <summary>Small flag constants of individual requests.</summary>
public static class FuseRequestFlags
{
    /// <summary>fuse_getattr_in.getattr_flags: the fh field is valid.</summary>
    public const uint GetAttrFh = 1 << 0;

    /// <summary>fuse_release_in.release_flags: flush before release.</summary>
    public const uint ReleaseFlush = 1 << 0;

    /// <summary>fuse_release_in.release_flags: drop flock locks.</summary>
    public const uint ReleaseFlockUnlock = 1 << 1;

    /// <summary>fuse_write_in.write_flags: delayed write from the page cache; the fh is a guess.</summary>
    public const uint WriteCache = 1 << 0;

    /// <summary>fuse_write_in.write_flags: lock_owner is valid.</summary>
    public const uint WriteLockOwner = 1 << 1;

    /// <summary>fuse_write_in.write_flags: kill suid and sgid bits.</summary>
    public const uint WriteKillSuidGid = 1 << 2;

    /// <summary>fuse_read_in.read_flags: lock_owner is valid.</summary>
    public const uint ReadLockOwner = 1 << 1;

    /// <summary>fuse_fsync_in.fsync_flags: sync data only (fdatasync).</summary>
    public const uint FsyncFdatasync = 1 << 0;

    /// <summary>fuse_open_in.open_flags / fuse_create_in.open_flags: kill suid and sgid if executable.</summary>
    public const uint OpenKillSuidGid = 1 << 0;

    /// <summary>fuse_setxattr_in.setxattr_flags: clear SGID when system.posix_acl_access is set.</summary>
    public const uint SetXattrAclKillSgid = 1 << 0;

    /// <summary>fuse_notify_inval_entry_out.flags: only expire the entry, do not drop it.</summary>
    public const uint NotifyExpireOnly = 1 << 0;

    /// <summary>fuse_attr.flags: the object is a submount root.</summary>
    public const uint AttrSubmount = 1 << 0;

    /// <summary>fuse_in_header.unique bit set on requests the kernel resends (FUSE_HAS_RESEND).</summary>
    public const ulong UniqueResend = 1UL << 63;

    /// <summary>rename2 flags (renameat2): fail if the target exists.</summary>
    public const uint RenameNoReplace = 1 << 0;

    /// <summary>rename2 flags (renameat2): swap source and target atomically.</summary>
    public const uint RenameExchange = 1 << 1;

    /// <summary>rename2 flags (renameat2): leave a whiteout at the source.</summary>
    public const uint RenameWhiteout = 1 << 2;
}
