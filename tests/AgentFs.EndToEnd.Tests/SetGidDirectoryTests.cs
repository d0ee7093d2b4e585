namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// A set-group-id directory hands its group to every new entry, and its bit to new subdirectories, as on
/// ext4 (inode_init_owner). The kernel strips S_ISGID from a new file whose creator is not in that group
/// (mode_strip_sgid); the daemon must keep the rest. The same script runs in a native directory and on the
/// mount, and what stat says must agree, also after a remount.
/// </summary>
public class SetGidDirectoryTests
{
    // Group 100 is not nobody's (65534): nobody creates as a non-member there.
    private const string Script = """
        set -e
        umask 022
        nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "umask 022; $1"; }
        create() { perl -e 'use Fcntl; sysopen(my $f, $ARGV[0], O_CREAT|O_WRONLY, oct($ARGV[1])) or die "$ARGV[0]: $!"' "$@"; }
        mkdir sg && chown 0:100 sg && chmod 2777 sg
        echo x > sg/file; mkdir sg/dir; mkdir sg/dir/deeper; ln -s file sg/link; mkfifo sg/fifo; mknod sg/null c 1 3
        create sg/root-setgid 2755
        nobody 'echo y > sg/nobody-file; mkdir sg/nobody-dir'
        nobody "perl -e 'use Fcntl; sysopen(my \$f, q(sg/nobody-setgid), O_CREAT|O_WRONLY, 02755) or die \$!'"
        nobody "perl -e 'mkdir q(sg/nobody-setgid-dir), 02755 or die \$!'"
        mkdir plain && chown 0:100 plain && chmod 777 plain
        echo z > plain/file; mkdir plain/dir
        """;

    private const string Report =
        "stat -c '%n %A %u %g' sg sg/file sg/dir sg/dir/deeper sg/link sg/fifo sg/null sg/root-setgid sg/nobody-file " +
        "sg/nobody-dir sg/nobody-setgid sg/nobody-setgid-dir plain plain/file plain/dir";

    [Fact]
    public void NewEntriesTakeTheGroupOfASetGidDirectoryAsOnALocalFileSystem()
    {
        using var m = new MountedStore();
        m.Sh($"chmod 755 {m.Root} {m.MountPoint}");
        string native = Path.Combine(m.Root, "native");
        Directory.CreateDirectory(native);
        m.Sh($"chmod 755 {native}");
        m.Sh(Script, cwd: native);
        string expected = m.Sh(Report, cwd: native);
        // The script checks what it means to check: the group came from the directory, the bit was stripped.
        Assert.Contains("sg/dir drwxr-sr-x 0 100\n", expected);
        Assert.Contains("sg/nobody-setgid -rwxr-xr-x 65534 100\n", expected);
        Assert.Contains("sg/root-setgid -rwxr-sr-x 0 100\n", expected);
        Assert.Contains("plain/dir drwxr-xr-x 0 0\n", expected);

        m.Sh(Script);
        Assert.Equal(expected, m.Sh(Report));
        m.Unmount();
        m.Mount();
        Assert.Equal(expected, m.Sh(Report));
    }

    [Fact]
    public void ASetGidDirectoryOfTheBaseHandsOnItsGroupToo()
    {
        using var m = new MountedStore(b =>
        {
            Directory.CreateDirectory(Path.Combine(b, "shared"));
            System.Diagnostics.Process.Start("sh", ["-c", $"chown 0:100 {b}/shared && chmod 2775 {b}/shared"])!.WaitForExit();
        });
        m.Sh("umask 022; touch shared/new && mkdir shared/sub");
        Assert.Equal("shared/new 100 -rw-r--r--\nshared/sub 100 drwxr-sr-x\n", m.Sh("stat -c '%n %g %A' shared/new shared/sub"));
    }
}
