namespace AgentFs.Tests;

/// <summary>
/// The path API of <see cref="AgentFileSystem"/>: where a symbolic link at the end of a path is followed (reading
/// and listing follow, describing does not unless asked: stat vs lstat), and errors that name the whole path the
/// caller gave, the component where it failed, and the branch, once. Links come from both sides: real symlinks
/// in the base directory (made by the OS) and links the branch made.
/// </summary>
public class PathApiTests
{
    private static (TempStore Temp, AgentStore Store, AgentFileSystem Fs) Open()
    {
        var t = new TempStore();
        t.WriteBase("a.txt", "base file\n");
        t.WriteBase("dir/inner.txt", "inner\n");
        File.CreateSymbolicLink(t.BasePath("base-link"), "a.txt");
        File.CreateSymbolicLink(t.BasePath("base-dir-link"), "dir");
        File.CreateSymbolicLink(t.BasePath("loop1"), "loop2");
        File.CreateSymbolicLink(t.BasePath("loop2"), "loop1");
        var store = t.Create();
        var fs = store.OpenFileSystem("main");
        fs.CreateDirectory("/made");
        fs.WriteAllText("/made/b.txt", "made here\n");
        fs.CreateSymbolicLink("/made/up", "../a.txt");
        fs.CreateSymbolicLink("/made/self", "self");
        fs.CreateSymbolicLink("/dangling", "nowhere");
        return (t, store, fs);
    }

    private static AgentFsException Fails(int errno, Action action)
    {
        var e = Assert.Throws<AgentFsException>(action);
        Assert.Equal(errno, e.Errno);
        return e;
    }

    [Fact]
    public void GetAttributes_is_lstat_and_with_followSymlinks_stat()
    {
        var (t, store, fs) = Open();
        using (t) using (store) using (fs)
        {
            var file = fs.GetAttributes("/a.txt");
            foreach (var link in new[] { "/base-link", "/made/up" })
            {
                Assert.True(fs.GetAttributes(link).IsSymlink);
                var followed = fs.GetAttributes(link, followSymlinks: true);
                Assert.True(followed.IsRegular);
                Assert.Equal(file.Ino, followed.Ino);
                Assert.Equal("base file\n".Length, followed.Size);
            }
            Assert.True(fs.GetAttributes("/base-dir-link", followSymlinks: true).IsDirectory);
            Assert.True(fs.GetAttributes("/dangling").IsSymlink);
            var e = Fails(Errno.ENOENT, () => fs.GetAttributes("/dangling", followSymlinks: true));
            Assert.Equal("/dangling: /nowhere does not exist in branch main", e.Message);
        }
    }

    [Fact]
    public void Reading_and_listing_follow_a_symlink_at_the_end_unless_told_not_to()
    {
        var (t, store, fs) = Open();
        using (t) using (store) using (fs)
        {
            Assert.Equal("base file\n", fs.ReadAllText("/base-link"));
            Assert.Equal("base file\n", fs.ReadAllText("/made/up"));
            using (var copy = new MemoryStream())
            {
                Assert.Equal(10, fs.ReadTo("/made/up", copy));
                Assert.Equal("base file\n"u8.ToArray(), copy.ToArray());
            }
            Assert.Equal(["inner.txt"], fs.Enumerate("/base-dir-link").Select(e => e.NameString));
            var e = Fails(Errno.EINVAL, () => fs.ReadAllBytes("/made/up", followSymlinks: false));
            Assert.Equal("/made/up is a symlink, not a regular file in branch main", e.Message);
            e = Fails(Errno.ENOTDIR, () => fs.Enumerate("/base-dir-link", followSymlinks: false));
            Assert.Equal("/base-dir-link is not a directory in branch main", e.Message);
            Assert.True(fs.Exists("/dangling"));
            Assert.False(fs.Exists("/dangling", followSymlinks: true));
        }
    }

    [Fact]
    public void A_missing_intermediate_directory_is_named_with_the_whole_path()
    {
        var (t, store, fs) = Open();
        using (t) using (store) using (fs)
        {
            const string Expected = "/no/such/file.txt: /no does not exist in branch main";
            Assert.Equal(Expected, Fails(Errno.ENOENT, () => fs.ReadAllBytes("no//such/./file.txt")).Message);
            Assert.Equal(Expected, Fails(Errno.ENOENT, () => fs.WriteAllText("/no/such/file.txt", "x")).Message);
            Assert.Equal(Expected, Fails(Errno.ENOENT, () => fs.Delete("/no/such/file.txt")).Message);
            Assert.Equal(Expected, Fails(Errno.ENOENT, () => fs.Move("/no/such/file.txt", "/x")).Message);
            Assert.Equal("/made/gone.txt does not exist in branch main", Fails(Errno.ENOENT, () => fs.Move("/made/gone.txt", "/x")).Message);
            Assert.Equal("/made/gone/x: /made/gone does not exist in branch main", Fails(Errno.ENOENT, () => fs.SetMode("/made/gone/x", 0x1A4)).Message);
            // Through a symbolic link, the message names the path the caller gave and the one the link led to.
            Assert.Equal("/base-dir-link/none/x: /dir/none does not exist in branch main",
                Fails(Errno.ENOENT, () => fs.GetAttributes("/base-dir-link/none/x")).Message);
            Assert.False(fs.Exists("/no/such/file.txt"));
        }
    }

    [Fact]
    public void A_file_used_as_a_directory_is_named_with_the_whole_path()
    {
        var (t, store, fs) = Open();
        using (t) using (store) using (fs)
        {
            Assert.Equal("/a.txt/x: /a.txt is not a directory in branch main", Fails(Errno.ENOTDIR, () => fs.ReadAllBytes("/a.txt/x")).Message);
            Assert.Equal("/a.txt/x: /a.txt is not a directory in branch main", Fails(Errno.ENOTDIR, () => fs.WriteAllText("/a.txt/x", "y")).Message);
            Assert.Equal("/made/b.txt/sub/deeper: /made/b.txt exists and is not a directory in branch main",
                Fails(Errno.ENOTDIR, () => fs.CreateDirectory("/made/b.txt/sub/deeper")).Message);
            Assert.Equal("/made/up/x: /a.txt is not a directory in branch main", Fails(Errno.ENOTDIR, () => fs.GetAttributes("/made/up/x")).Message);
            Assert.False(fs.Exists("/a.txt/x"));
        }
    }

    [Fact]
    public void A_symbolic_link_loop_is_ELOOP_naming_the_path()
    {
        var (t, store, fs) = Open();
        using (t) using (store) using (fs)
        {
            Assert.True(fs.GetAttributes("/loop1").IsSymlink); // lstat does not follow
            Assert.Equal("/loop1 has too many levels of symbolic links (a loop?) in branch main",
                Fails(Errno.ELOOP, () => fs.ReadAllBytes("/loop1")).Message);
            Assert.Equal("/loop1/x has too many levels of symbolic links (a loop?) in branch main",
                Fails(Errno.ELOOP, () => fs.WriteAllText("/loop1/x", "y")).Message);
            Assert.Equal("/made/self has too many levels of symbolic links (a loop?) in branch main",
                Fails(Errno.ELOOP, () => fs.GetAttributes("/made/self", followSymlinks: true)).Message);
            Assert.False(fs.Exists("/loop1", followSymlinks: true));
            Assert.False(fs.Exists("/loop2/x"));
        }
    }

    [Fact]
    public void An_inode_level_error_is_said_once_with_the_path_and_branch()
    {
        var (t, store, fs) = Open();
        using (t) using (store) using (fs)
        {
            Assert.Equal("/made in branch main: made already exists", Fails(Errno.EEXIST, () => fs.CreateSymbolicLink("made", "x")).Message);
            Assert.Equal("/made is a directory in branch main", Fails(Errno.EISDIR, () => fs.WriteAllText("/made", "x")).Message);
            Assert.Equal("/made in branch main: directory made is not empty", Fails(Errno.ENOTEMPTY, () => fs.Delete("/made")).Message);
            Assert.Equal("/a.txt -> /made in branch main: made is a directory", Fails(Errno.EISDIR, () => fs.Move("/a.txt", "/made")).Message);
            Assert.Equal("/x in branch main: no attribute user.none", Fails(Errno.ENODATA, () =>
            {
                fs.WriteAllText("/x", "");
                fs.GetXattr("/x", "user.none");
            }).Message);
            Assert.Equal("/made/b.txt", AgentFileSystem.NormalizePath("made//./b.txt/../b.txt"));
            Assert.Equal("/", AgentFileSystem.NormalizePath("../.."));
        }
    }
}
