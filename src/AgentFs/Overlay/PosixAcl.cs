using System.Buffers.Binary;

namespace AgentFs.Overlay;

/// <summary>
/// POSIX ACLs in the form the kernel exchanges them as extended attributes (system.posix_acl_access and
/// system.posix_acl_default): a little-endian header { u32 version = 2 } and entries { u16 tag, u16 perm,
/// u32 id }, sorted by tag and then id. The rules are the kernel's (fs/posix_acl.c), because a local file
/// system applies them there and a FUSE daemon that negotiates FUSE_POSIX_ACL must apply them itself:
/// <list type="bullet">
/// <item>An access ACL and the mode are one thing seen twice: the owner entry is the owner bits, the mask
/// (or the owning group entry when there is no mask) is the group bits, the other entry the other bits.
/// Setting an access ACL sets those bits of the mode; an ACL of only those three entries is just a mode
/// and is not stored. A chmod rewrites those three entries of a stored ACL.</item>
/// <item>A new inode in a directory with a default ACL gets that ACL as its access ACL, each entry masked
/// by the mode the creator asked for (the umask does not apply), and a new directory also gets it as its
/// default ACL.</item>
/// </list>
/// </summary>
internal static class PosixAcl
{
    public const string AccessXattr = "system.posix_acl_access";
    public const string DefaultXattr = "system.posix_acl_default";

    private const uint Version = 2;
    private const int HeaderSize = 4, EntrySize = 8;
    private const ushort UserObj = 0x01, User = 0x02, GroupObj = 0x04, Group = 0x08, Mask = 0x10, Other = 0x20;
    private const uint Rwx = 7;

    public static bool IsAclName(string name) => name == AccessXattr || name == DefaultXattr;

    /// <summary>Checks an ACL as the kernel does (posix_acl_from_xattr, posix_acl_valid): EINVAL when
    /// malformed. Returns the number of entries (0 for a header alone, which means "no ACL").</summary>
    public static int Validate(ReadOnlySpan<byte> acl)
    {
        if (acl.Length < HeaderSize || (acl.Length - HeaderSize) % EntrySize != 0 ||
            BinaryPrimitives.ReadUInt32LittleEndian(acl) != Version)
            throw Invalid();
        int count = (acl.Length - HeaderSize) / EntrySize;
        if (count == 0) return 0;
        // The order the kernel requires: owner, named users, owning group, named groups, mask, other; the
        // mask is required when there are named entries.
        const int Done = 0;
        int state = UserObj;
        bool needsMask = false;
        for (int i = 0; i < count; i++)
        {
            var (tag, perm, _) = Entry(acl, i);
            if ((perm & ~Rwx) != 0) throw Invalid();
            state = (tag, state) switch
            {
                (UserObj, UserObj) => User,
                (User, User) => User,
                (GroupObj, User) => Group,
                (Group, Group) => Group,
                (Mask, Group) => Other,
                (Other, Other) => Done,
                (Other, Group) when !needsMask => Done,
                _ => throw Invalid(),
            };
            needsMask |= tag is User or Group;
        }
        if (state != Done) throw Invalid();
        return count;
    }

    /// <summary>posix_acl_equiv_mode: the permission bits an access ACL stands for, merged into
    /// <paramref name="mode"/>; true when the ACL says nothing more than those bits.</summary>
    public static bool ToMode(ReadOnlySpan<byte> acl, ref uint mode)
    {
        int count = (acl.Length - HeaderSize) / EntrySize;
        uint bits = 0;
        bool equivalent = true;
        for (int i = 0; i < count; i++)
        {
            var (tag, perm, _) = Entry(acl, i);
            switch (tag)
            {
                case UserObj: bits |= (perm & Rwx) << 6; break;
                case GroupObj: bits |= (perm & Rwx) << 3; break;
                case Other: bits |= perm & Rwx; break;
                case Mask: bits = (bits & ~(Rwx << 3)) | ((perm & Rwx) << 3); equivalent = false; break;
                default: equivalent = false; break;
            }
        }
        mode = (mode & ~0x1FFu) | bits;
        return equivalent;
    }

    /// <summary>posix_acl_chmod: the access ACL after a chmod to <paramref name="mode"/>.</summary>
    public static byte[] Chmod(ReadOnlySpan<byte> acl, uint mode)
    {
        byte[] result = acl.ToArray();
        int count = (acl.Length - HeaderSize) / EntrySize;
        int groupObj = -1, mask = -1;
        for (int i = 0; i < count; i++)
        {
            switch (Entry(result, i).Tag)
            {
                case UserObj: SetPerm(result, i, (mode >> 6) & Rwx); break;
                case GroupObj: groupObj = i; break;
                case Mask: mask = i; break;
                case Other: SetPerm(result, i, mode & Rwx); break;
            }
        }
        int group = mask >= 0 ? mask : groupObj;
        if (group >= 0) SetPerm(result, group, (mode >> 3) & Rwx);
        return result;
    }

    /// <summary>
    /// posix_acl_create: what a new inode made with <paramref name="mode"/> in a directory with the default
    /// ACL <paramref name="defaultAcl"/> gets. The mode loses the bits the ACL denies; the access ACL is null
    /// when it would say nothing more than the mode.
    /// </summary>
    public static byte[]? Inherit(ReadOnlySpan<byte> defaultAcl, ref uint mode)
    {
        byte[] acl = defaultAcl.ToArray();
        int count = (acl.Length - HeaderSize) / EntrySize;
        uint bits = mode & 0x1FF;
        int groupObj = -1, mask = -1;
        bool equivalent = true;
        for (int i = 0; i < count; i++)
        {
            var (tag, perm, _) = Entry(acl, i);
            switch (tag)
            {
                case UserObj:
                    perm &= (ushort)((bits >> 6) & Rwx);
                    SetPerm(acl, i, perm);
                    bits &= ((uint)perm << 6) | ~(Rwx << 6);
                    break;
                case Other:
                    perm &= (ushort)(bits & Rwx);
                    SetPerm(acl, i, perm);
                    bits &= perm | ~Rwx;
                    break;
                case GroupObj: groupObj = i; break;
                case Mask: mask = i; equivalent = false; break;
                default: equivalent = false; break;
            }
        }
        int group = mask >= 0 ? mask : groupObj;
        if (group >= 0)
        {
            uint perm = Entry(acl, group).Perm & ((bits >> 3) & Rwx);
            SetPerm(acl, group, perm);
            bits &= (perm << 3) | ~(Rwx << 3);
        }
        mode = (mode & ~0x1FFu) | bits;
        return equivalent ? null : acl;
    }

    private static (ushort Tag, ushort Perm, uint Id) Entry(ReadOnlySpan<byte> acl, int index)
    {
        var e = acl.Slice(HeaderSize + index * EntrySize, EntrySize);
        return (BinaryPrimitives.ReadUInt16LittleEndian(e), BinaryPrimitives.ReadUInt16LittleEndian(e[2..]),
            BinaryPrimitives.ReadUInt32LittleEndian(e[4..]));
    }

    private static void SetPerm(byte[] acl, int index, uint perm) =>
        BinaryPrimitives.WriteUInt16LittleEndian(acl.AsSpan(HeaderSize + index * EntrySize + 2), (ushort)perm);

    private static AgentFsException Invalid() => new(Errno.EINVAL, "not a valid POSIX ACL (system.posix_acl_* attribute)");
}
