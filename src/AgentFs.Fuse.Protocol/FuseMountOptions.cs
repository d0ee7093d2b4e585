namespace AgentFs.Fuse.Protocol;

/// <summary>How to mount and what to ask of the kernel at INIT. The kernel grants only what it offers;
/// <see cref="FuseSession.Connection"/> tells what was granted.</summary>
public sealed class FuseMountOptions
{
    /// <summary>The mount source shown in /proc/mounts and df (the "fsname").</summary>
    public string FsName { get; set; } = "agentfs";

    /// <summary>The subtype: the mount shows as file system type "fuse.&lt;Subtype&gt;".</summary>
    public string Subtype { get; set; } = "agentfs";

    /// <summary>Mount read-only (MS_RDONLY).</summary>
    public bool ReadOnly { get; set; }

    /// <summary>Let users other than the mounter see the mount (allow_other). Needs user_allow_other in
    /// /etc/fuse.conf when mounting through fusermount3.</summary>
    public bool AllowOther { get; set; } = true;

    /// <summary>Let the kernel check permissions from the mode bits (default_permissions); ACCESS is then not sent.</summary>
    public bool DefaultPermissions { get; set; } = true;

    /// <summary>Ignore set-user-id bits and device files on the mount (MS_NOSUID, MS_NODEV).</summary>
    public bool NoSuidNoDev { get; set; } = true;

    /// <summary>Mount through fusermount3 even as root (true), never (false), or when not root (null).</summary>
    public bool? UseFusermount { get; set; }

    /// <summary>The fusermount3 program to use; null: search PATH for fusermount3, then fusermount.</summary>
    public string? FusermountPath { get; set; }

    /// <summary>Reader threads, each with its own cloned /dev/fuse descriptor. Default: processor count, at least 2.</summary>
    public int Threads { get; set; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>Largest request in pages (FUSE_MAX_PAGES): 256 pages make 1 MiB reads and writes.</summary>
    public int MaxPages { get; set; } = 256;

    /// <summary>Read-ahead of the mount in KiB, set through sysfs after mounting when permitted (root). 0 leaves
    /// the kernel's default (128 KiB). Default: 1024, so a cold sequential read asks for 1 MiB at a time.</summary>
    public int ReadAheadKb { get; set; } = 1024;

    /// <summary>Background requests (readahead, writeback) the kernel keeps in flight at most.</summary>
    public ushort MaxBackground { get; set; } = 64;

    /// <summary>Background requests above which the kernel reports congestion.</summary>
    public ushort CongestionThreshold { get; set; } = 48;

    /// <summary>
    /// FUSE_WRITEBACK_CACHE: buffered writes collect in the page cache and reach the filesystem later, in
    /// large chunks; the kernel owns size and mtime meanwhile. The kernel refuses passthrough together with
    /// it, so when <see cref="Passthrough"/> is also set, passthrough wins and this is not requested.
    /// </summary>
    public bool WritebackCache { get; set; } = true;

    /// <summary>
    /// FUSE_PASSTHROUGH (Linux 6.9+, CAP_SYS_ADMIN): opens may hand the kernel a backing file descriptor so
    /// reads and writes bypass the daemon. See <see cref="FuseSession.OpenBacking(int, out int)"/>.
    /// </summary>
    public bool Passthrough { get; set; }

    /// <summary>FUSE_DO_READDIRPLUS with FUSE_READDIRPLUS_AUTO: listings carry attributes when the kernel expects stats.</summary>
    public bool ReadDirPlus { get; set; } = true;

    /// <summary>FUSE_EXPORT_SUPPORT: lookups of "." and ".." may be sent (needed to export over NFS).</summary>
    public bool ExportSupport { get; set; } = true;

    /// <summary>FUSE_CACHE_SYMLINKS: the kernel caches READLINK replies in the page cache.</summary>
    public bool CacheSymlinks { get; set; } = true;

    /// <summary>FUSE_HANDLE_KILLPRIV_V2: the filesystem, not the kernel, clears suid/sgid on write, truncate and chown.</summary>
    public bool HandleKillPrivV2 { get; set; }

    /// <summary>
    /// FUSE_POSIX_ACL, with FUSE_DONT_MASK and FUSE_SETXATTR_EXT: the kernel checks permissions with the ACLs
    /// it reads as system.posix_acl_* attributes (and turns default_permissions on). The filesystem then owes
    /// what a local filesystem does with ACLs: mode and access ACL kept in step on setxattr and chmod, default
    /// ACLs inherited on create, and the umask applied by itself (it comes in the create requests), because
    /// it must not apply where a default ACL decides.
    /// </summary>
    public bool PosixAcl { get; set; }

    /// <summary>Further INIT flags to request, beyond those the properties above control.</summary>
    public FuseInitFlags ExtraFlags { get; set; }

    /// <summary>How long <see cref="FuseSession.Mount"/> waits for the kernel's INIT.</summary>
    public TimeSpan InitTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long <see cref="FuseSession.Dispose"/> waits for the readers after unmounting before it aborts the
    /// connection (files still open on the detached mount keep it alive; abort makes them fail with ENOTCONN).
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Where diagnostics go (exceptions escaping the filesystem, device errors). Null: nowhere.</summary>
    public Action<string>? Log { get; set; }

    /// <summary>Count requests and time spent per opcode (<see cref="FuseSession.Stats"/>).</summary>
    public bool CollectStats { get; set; }

    /// <summary>The flags this configuration asks for at INIT.</summary>
    public FuseInitFlags RequestedFlags
    {
        get
        {
            var flags = FuseInitFlags.AsyncRead | FuseInitFlags.BigWrites | FuseInitFlags.MaxPages |
                FuseInitFlags.ParallelDirOps | FuseInitFlags.AtomicOTrunc | FuseInitFlags.InitExt | ExtraFlags;
            if (Passthrough)
                flags |= FuseInitFlags.Passthrough;
            else if (WritebackCache)
                flags |= FuseInitFlags.WritebackCache;
            if (ReadDirPlus)
                flags |= FuseInitFlags.DoReadDirPlus | FuseInitFlags.ReadDirPlusAuto;
            if (ExportSupport)
                flags |= FuseInitFlags.ExportSupport;
            if (CacheSymlinks)
                flags |= FuseInitFlags.CacheSymlinks;
            if (HandleKillPrivV2)
                flags |= FuseInitFlags.HandleKillPrivV2;
            if (PosixAcl)
                flags |= FuseInitFlags.PosixAcl | FuseInitFlags.DontMask | FuseInitFlags.SetXattrExt;
            return flags;
        }
    }
}
