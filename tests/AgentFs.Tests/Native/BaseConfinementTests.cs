using System.Text;
using AgentFs.Native;

namespace AgentFs.Tests;

/// <summary>Every base access stays below the base root, whatever the store says or the base became.</summary>
public class BaseConfinementTests
{
    [Fact]
    public void A_base_directory_replaced_by_a_symlink_to_outside_is_not_followed()
    {
        using var t = new TempStore();
        string outside = Path.Combine(t.Root, "outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "secret"), "secret\n");
        t.WriteBase("sub/secret", "mine\n");
        using var b = new BaseDirectory(t.BaseDir, t.StorePath);
        Assert.True(b.TryStat("sub/secret"u8, out _));
        Directory.Delete(t.BasePath("sub"), recursive: true);
        File.CreateSymbolicLink(t.BasePath("sub"), outside);

        var e = Assert.Throws<AgentFsException>(() => b.TryStat("sub/secret"u8, out _));
        Assert.Contains("symlink", e.Message);
        Assert.Throws<AgentFsException>(() => BaseDirectory.Close(b.OpenRead("sub/secret"u8)));
        Assert.Empty(b.ReadDirectory("sub"u8)); // the final symlink is not a directory here: nothing listed through it
        Assert.Throws<AgentFsException>(() => b.ReadLink("sub/secret"u8));
        Assert.Throws<AgentFsException>(() => b.ReadXattrs("sub/secret"u8));
        // The symlink itself is still what the base has there, seen as a symlink.
        Assert.True(b.TryStat("sub"u8, out var st));
        Assert.True(PosixMode.IsSymlink(st.Mode));
        Assert.Equal(Path.Combine(outside), Encoding.UTF8.GetString(b.ReadLink("sub"u8)));
    }

    [Fact]
    public void A_base_file_the_user_cannot_read_is_reported_as_permission_denied()
    {
        using var t = new TempStore();
        t.WriteBase("locked/f", "x\n");
        File.SetUnixFileMode(t.BasePath("locked"), 0);
        using var b = new BaseDirectory(t.BaseDir, t.StorePath);
        // Root passes permission checks; drop to an unprivileged fsuid for the open, as a user's mount would be.
        var e = Assert.Throws<AgentFsException>(() => AsNobody(() => BaseDirectory.Close(b.OpenRead("locked/f"u8))));
        Assert.Equal(Errno.EACCES, e.Errno);
        Assert.Contains("permission denied (EACCES)", e.Message);
        Assert.DoesNotContain("changed underneath", e.Message);
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int setfsuid(uint uid);

    /// <summary>Runs an action with fsuid 65534 on this thread (setfsuid is per thread), then back to root.</summary>
    private static void AsNobody(Action action)
    {
        Exception? error = null;
        var thread = new Thread(() =>
        {
            _ = setfsuid(65534);
            try { action(); }
            catch (Exception ex) { error = ex; }
            finally { _ = setfsuid(0); }
        });
        thread.Start();
        thread.Join();
        if (error != null) throw error;
    }
}
