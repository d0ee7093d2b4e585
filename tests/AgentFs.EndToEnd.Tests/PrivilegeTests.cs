namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// Writes, truncations and changes of owner drop set-user-id, set-group-id and file capabilities as on a
/// local file system. The mount negotiates FUSE_HANDLE_KILLPRIV_V2, so the daemon does this, not the kernel:
/// the same script runs in a native directory and on the mount, and the modes and capabilities must agree.
/// </summary>
public class PrivilegeTests
{
    private const string Script = """
        set -e
        nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "$1"; }
        echo x > a && chown 65534:65534 a && chmod 6775 a && nobody 'echo more >> a'
        echo x > b && chown 65534 b && chmod 6755 b && nobody 'echo more >> b'
        echo x > c && chmod 6777 c && echo more >> c
        echo x > d && chown 65534 d && chmod 6777 d && nobody 'truncate -s 1 d'
        echo x > e && chown 65534 e && chmod 6777 e && nobody 'echo new > e'
        echo x > f && chmod 6755 f && chown 65534 f
        mkdir -p g && chmod 3777 g && chown 65534 g
        echo x > h && chown 65534:65534 h && chmod 6775 h && nobody 'echo y | dd of=h bs=1 seek=1 conv=notrunc status=none'
        cp /bin/true cap-written && setcap cap_net_raw+ep cap-written && echo hi >> cap-written
        cp /bin/true cap-truncated && setcap cap_net_raw+ep cap-truncated && truncate -s 100 cap-truncated
        cp /bin/true cap-chowned && setcap cap_net_raw+ep cap-chowned && chown 65534 cap-chowned
        cp /bin/true cap-kept && setcap cap_net_raw+ep cap-kept && cat cap-kept > /dev/null
        stat -c '%n %a %U %G %s' a b c d e f g h cap-written cap-truncated cap-chowned cap-kept
        getcap cap-written cap-truncated cap-chowned cap-kept
        """;

    [Fact]
    public void SetIdBitsAndCapabilitiesDropAsOnALocalFileSystem()
    {
        using var m = new MountedStore();
        // The unprivileged writer must reach the files: every directory on the way is searchable.
        m.Sh($"chmod 755 {m.Root} {m.MountPoint}");
        string native = Path.Combine(m.Root, "native");
        Directory.CreateDirectory(native);
        m.Sh($"chmod 755 {native}");
        string expected = m.Sh(Script, cwd: native);
        Assert.Contains("a 775 ", expected); // the script checks what it means to check
        Assert.Contains("cap-kept cap_net_raw=ep", expected);

        Assert.Equal(expected, m.Sh(Script));
        m.Unmount();
        m.Mount();
        Assert.Equal(expected, m.Sh("stat -c '%n %a %U %G %s' a b c d e f g h cap-written cap-truncated cap-chowned cap-kept && " +
                                    "getcap cap-written cap-truncated cap-chowned cap-kept"));
    }
}
