using AgentFs.Overlay;

namespace AgentFs.Tests;

/// <summary>The library keeps POSIX ACLs and modes in step as the kernel does for a local file system (the
/// mount's end-to-end tests compare with a native directory; these pin the rules one by one).</summary>
public class PosixAclTests
{
    private const ushort UserObj = 1, User = 2, GroupObj = 4, Group = 8, Mask = 0x10, Other = 0x20;
    private const uint NoId = uint.MaxValue;

    /// <summary>An ACL in the xattr form: version 2, then (tag, perm, id) entries.</summary>
    private static byte[] Acl(params (ushort Tag, ushort Perm, uint Id)[] entries)
    {
        var b = new byte[4 + 8 * entries.Length];
        BitConverter.TryWriteBytes(b.AsSpan(0), 2u);
        for (int i = 0; i < entries.Length; i++)
        {
            BitConverter.TryWriteBytes(b.AsSpan(4 + 8 * i), entries[i].Tag);
            BitConverter.TryWriteBytes(b.AsSpan(6 + 8 * i), entries[i].Perm);
            BitConverter.TryWriteBytes(b.AsSpan(8 + 8 * i), entries[i].Id);
        }
        return b;
    }

    private static readonly byte[] Named = Acl((UserObj, 6, NoId), (User, 6, 65534), (GroupObj, 4, NoId), (Mask, 6, NoId), (Other, 4, NoId));
    private static readonly byte[] Minimal = Acl((UserObj, 7, NoId), (GroupObj, 5, NoId), (Other, 0, NoId));

    [Fact]
    public void MalformedAclsAreRefused()
    {
        Assert.Equal(5, PosixAcl.Validate(Named));
        Assert.Equal(0, PosixAcl.Validate(Acl()));
        foreach (var bad in new[]
        {
            new byte[] { 1, 0, 0, 0 },                                         // version 1
            Named[..^1],                                                       // a torn entry
            Acl((UserObj, 6, NoId), (User, 6, 1), (GroupObj, 4, NoId), (Other, 4, NoId)), // named entry, no mask
            Acl((GroupObj, 4, NoId), (UserObj, 6, NoId), (Other, 4, NoId)),    // out of order
            Acl((UserObj, 8, NoId), (GroupObj, 4, NoId), (Other, 4, NoId)),    // a permission beyond rwx
            Acl((UserObj, 6, NoId), (GroupObj, 4, NoId)),                      // no other entry
        })
            Assert.Equal(Errno.EINVAL, Assert.Throws<AgentFsException>(() => PosixAcl.Validate(bad)).Errno);
    }

    [Fact]
    public void AnAccessAclSetsTheModeAndIsStoredOnlyWhenItSaysMore()
    {
        using var t = new TempStore();
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        var f = fs.Inodes.Create(InodeNumbers.Root, "f"u8, 0x180); // 0600, as mkstemp makes it
        fs.Inodes.SetXattr(f.Ino, PosixAcl.AccessXattr, Minimal);
        Assert.Equal(0x1E8u, fs.Inodes.GetAttr(f.Ino).Mode & 0xFFF); // 0750
        Assert.Null(fs.Inodes.TryGetXattr(f.Ino, PosixAcl.AccessXattr));
        Assert.Empty(fs.Inodes.ListXattr(f.Ino));

        fs.Inodes.SetXattr(f.Ino, PosixAcl.AccessXattr, Named);
        Assert.Equal(0x1B4u, fs.Inodes.GetAttr(f.Ino).Mode & 0xFFF); // 0664: the mask is the group bits
        Assert.Equal(Named, fs.Inodes.TryGetXattr(f.Ino, PosixAcl.AccessXattr));

        fs.Inodes.SetAttr(f.Ino, new SetAttrRequest(SetAttrFields.Mode, Mode: 0x180)); // chmod 600 masks the named entry
        Assert.Equal(Acl((UserObj, 6, NoId), (User, 6, 65534), (GroupObj, 4, NoId), (Mask, 0, NoId), (Other, 0, NoId)),
            fs.Inodes.TryGetXattr(f.Ino, PosixAcl.AccessXattr));

        fs.Inodes.SetAttr(f.Ino, new SetAttrRequest(SetAttrFields.Mode, Mode: 0x5B4)); // 2664
        fs.Inodes.SetXattr(f.Ino, PosixAcl.AccessXattr, Named, dropSetGid: true);
        Assert.Equal(0x1B4u, fs.Inodes.GetAttr(f.Ino).Mode & 0xFFF);

        fs.Inodes.RemoveXattr(f.Ino, PosixAcl.AccessXattr);
        fs.Inodes.RemoveXattr(f.Ino, PosixAcl.AccessXattr); // removing an ACL that is not there is no error
        Assert.Equal(Errno.ENODATA, Assert.Throws<AgentFsException>(() => fs.Inodes.RemoveXattr(f.Ino, "user.x")).Errno);
    }

    [Fact]
    public void DefaultAclsAreInheritedAndTheUmaskAppliesOnlyWithout()
    {
        using var t = new TempStore();
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        var plain = fs.Inodes.Create(InodeNumbers.Root, "plain"u8, 0x1B6, umask: 0x12);
        Assert.Equal(0x1A4u, plain.Mode & 0xFFF); // 0666 & ~022

        var d = fs.Inodes.Mkdir(InodeNumbers.Root, "d"u8, 0x1FF);
        var byDefault = Acl((UserObj, 7, NoId), (User, 7, 65534), (GroupObj, 5, NoId), (Mask, 7, NoId), (Other, 0, NoId));
        fs.Inodes.SetXattr(d.Ino, PosixAcl.DefaultXattr, byDefault);
        var f = fs.Inodes.Create(d.Ino, "f"u8, 0x1B6, umask: 0x3F); // umask 077 does not apply
        Assert.Equal(0x1B0u, f.Mode & 0xFFF); // 0660: other gets nothing from the default ACL
        Assert.Equal(Acl((UserObj, 6, NoId), (User, 7, 65534), (GroupObj, 5, NoId), (Mask, 6, NoId), (Other, 0, NoId)),
            fs.Inodes.TryGetXattr(f.Ino, PosixAcl.AccessXattr));
        Assert.Null(fs.Inodes.TryGetXattr(f.Ino, PosixAcl.DefaultXattr));

        var sub = fs.Inodes.Mkdir(d.Ino, "sub"u8, 0x1FF, umask: 0x3F);
        Assert.Equal(0x1F8u, sub.Mode & 0xFFF); // 0770
        Assert.Equal(byDefault, fs.Inodes.TryGetXattr(sub.Ino, PosixAcl.DefaultXattr));

        var link = fs.Inodes.Symlink(d.Ino, "l"u8, "f"u8);
        Assert.Empty(fs.Inodes.ListXattr(link.Ino));
        Assert.Equal(Errno.EACCES, Assert.Throws<AgentFsException>(() => fs.Inodes.SetXattr(f.Ino, PosixAcl.DefaultXattr, byDefault)).Errno);
        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<AgentFsException>(() => fs.Inodes.SetXattr(link.Ino, PosixAcl.AccessXattr, Named)).Errno);
    }

    [Fact]
    public void ASetGidDirectoryGivesItsGroupAndItsBitToSubdirectories()
    {
        using var t = new TempStore();
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        var d = fs.Inodes.Mkdir(InodeNumbers.Root, "d"u8, 0x1FF);
        fs.Inodes.SetAttr(d.Ino, new SetAttrRequest(SetAttrFields.Gid | SetAttrFields.Mode, Mode: 0x5FF, Gid: 4242));
        var file = fs.Inodes.Create(d.Ino, "f"u8, 0x1A4);
        var sub = fs.Inodes.Mkdir(d.Ino, "s"u8, 0x1ED);
        var link = fs.Inodes.Symlink(d.Ino, "l"u8, "f"u8);
        Assert.Equal(4242u, file.Gid);
        Assert.Equal(0x1A4u, file.Mode & 0xFFF);
        Assert.Equal(4242u, sub.Gid);
        Assert.Equal(0x5EDu, sub.Mode & 0xFFF); // 2755
        Assert.Equal(4242u, link.Gid);
    }
}
