namespace AgentFs.Tests.Property;

/// <summary>
/// A step as libc calls on a real directory tree: how the model (and the base tree) is changed, and, in the
/// mount variant (AgentFs.EndToEnd.Tests), also how the system under test is driven through the kernel, so
/// that both sides make exactly the same system calls. Versions, flushes and reopens are not libc calls:
/// their kinds return 0 here and the caller does them.
/// </summary>
public static class LibcSteps
{
    private static string Under(string root, string rel) => rel.Length == 0 ? root : root + "/" + rel;

    public static int Apply(Step s, string root)
    {
        byte[]? unused = null;
        return Apply(s, root, ref unused);
    }

    /// <summary>Applies a step below root; returns 0 or the errno. data: what a ReadAt read (null if it failed).</summary>
    public static int Apply(Step s, string root, ref byte[]? data)
    {
        string M(string rel) => Under(root, rel);
        switch (s.Kind)
        {
            case OpKind.Create: return ModelLibc.WriteFile(M(s.P), 0, Step.Data(s.Seed, s.A), true, (uint)s.B);
            case OpKind.WriteAt: return ModelLibc.WriteFile(M(s.P), s.A, Step.Data(s.Seed, s.B), false, 0);
            case OpKind.Truncate: return ModelLibc.Truncate(M(s.P), s.A);
            case OpKind.Rename:
                return ModelLibc.Rename(M(s.P), M(s.Q), s.Flags == 1 ? ModelLibc.RENAME_NOREPLACE : s.Flags == 2 ? ModelLibc.RENAME_EXCHANGE : 0);
            case OpKind.Link: return ModelLibc.Link(M(s.Q), M(s.P));
            case OpKind.Remove:
                if (s.Flags == 1) return ModelLibc.Unlink(M(s.P));
                if (s.Flags == 2) return ModelLibc.Rmdir(M(s.P));
                {
                    int e = ModelLibc.TryStat(M(s.P), false, out var st);
                    return e != 0 ? e : st.IsDir ? ModelLibc.Rmdir(M(s.P)) : ModelLibc.Unlink(M(s.P));
                }
            case OpKind.Mkdir:
                if (s.Flags == 1) return MkdirWithMode(M(s.P), (uint)s.A);
                return MkdirP(root, s.P, (uint)s.A);
            case OpKind.Symlink: return ModelLibc.Symlink(s.Q, M(s.P));
            case OpKind.Chmod: return ModelLibc.Chmod(M(s.P), (uint)s.A);
            case OpKind.SetXattr: return ModelLibc.SetXattr(M(s.P), s.Q, Step.Data(s.Seed, s.A), s.Flags);
            case OpKind.RemoveXattr: return ModelLibc.RemoveXattr(M(s.P), s.Q);
            case OpKind.ReadAt:
            {
                int e = ModelLibc.ReadAt(M(s.P), s.A, (int)s.B, out var d);
                data = e == 0 ? d : null;
                return e;
            }
            default: return 0;
        }
    }

    /// <summary>mkdir(path, mode) as if the umask were 0: mkdir 0700, then chmod to the mode. A directory made
    /// in a set-group-id directory keeps the S_ISGID it was born with, as mkdir(2) with that mode gives it.</summary>
    private static int MkdirWithMode(string path, uint mode)
    {
        int e = ModelLibc.Mkdir(path, 0x1C0);
        if (e != 0) return e;
        e = ModelLibc.TryStat(path, follow: false, out var st);
        return e != 0 ? e : ModelLibc.Chmod(path, mode | (st.Mode & 0x400)); // S_ISGID
    }

    /// <summary>mkdir -p as coreutils does it (symbolic links followed everywhere; the given mode for every
    /// directory created): an existing directory is fine; after EEXIST, a non-directory is ENOTDIR in the middle
    /// and EEXIST at the end, a dangling link is EEXIST, a loop ELOOP.</summary>
    public static int MkdirP(string root, string rel, uint mode)
    {
        string M(string r) => Under(root, r);
        string[] parts = rel.Split('/');
        string cur = "";
        for (int i = 0; i < parts.Length; i++)
        {
            cur = cur.Length == 0 ? parts[i] : cur + "/" + parts[i];
            bool last = i == parts.Length - 1;
            int e = MkdirWithMode(M(cur), mode);
            if (e == 0) continue;
            if (e != Errno.EEXIST) return e;
            int se = ModelLibc.TryStat(M(cur), follow: true, out var st);
            if (se == Errno.ENOENT) return Errno.EEXIST;
            if (se != 0) return se;
            if (!st.IsDir) return last ? Errno.EEXIST : Errno.ENOTDIR;
        }
        return 0;
    }

    /// <summary>The step as the libc calls <see cref="Apply(Step, string, ref byte[])"/> makes (paths relative to the root).</summary>
    public static string Describe(Step s) => s.Kind switch
    {
        OpKind.Create => $"open(\"{s.P}\", O_WRONLY|O_CREAT|O_TRUNC|O_NOFOLLOW, 0600), fchmod({Step.Oct(s.B)}) if created, pwrite({s.A} bytes of seed {s.Seed} at 0), close",
        OpKind.WriteAt => $"open(\"{s.P}\", O_WRONLY|O_NOFOLLOW), pwrite({s.B} bytes of seed {s.Seed} at {s.A}), close",
        OpKind.Truncate => $"truncate(\"{s.P}\", {s.A})",
        OpKind.Rename => $"renameat2(\"{s.P}\", \"{s.Q}\", {(s.Flags == 1 ? "RENAME_NOREPLACE" : s.Flags == 2 ? "RENAME_EXCHANGE" : "0")})",
        OpKind.Link => $"link(\"{s.Q}\", \"{s.P}\")",
        OpKind.Remove => s.Flags switch
        {
            1 => $"unlink(\"{s.P}\")",
            2 => $"rmdir(\"{s.P}\")",
            _ => $"lstat(\"{s.P}\"), then rmdir or unlink by type",
        },
        OpKind.Mkdir => s.Flags == 1 ? $"mkdir(\"{s.P}\", 0700), chmod({Step.Oct(s.A)} | inherited S_ISGID)"
            : $"mkdir -p \"{s.P}\" (mkdir 0700 + chmod {Step.Oct(s.A)} | inherited S_ISGID of each missing component, stat on EEXIST)",
        OpKind.Symlink => $"symlink(\"{s.Q}\", \"{s.P}\")",
        OpKind.Chmod => $"chmod(\"{s.P}\", {Step.Oct(s.A)})",
        OpKind.SetXattr => $"lsetxattr(\"{s.P}\", \"{s.Q}\", {s.A} bytes of seed {s.Seed}, {(s.Flags == 1 ? "XATTR_CREATE" : s.Flags == 2 ? "XATTR_REPLACE" : "0")})",
        OpKind.RemoveXattr => $"lremovexattr(\"{s.P}\", \"{s.Q}\")",
        OpKind.ReadAt => $"open(\"{s.P}\", O_RDONLY|O_NOFOLLOW), pread({s.B} bytes at {s.A}), close",
        _ => s.ToString(),
    };
}
