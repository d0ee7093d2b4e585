using System.Diagnostics;

namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// POSIX ACLs behave on the mount as on a local file system: the same steps (setfacl, chmod, default ACLs
/// inherited by new entries, the GNU tools that copy ACLs) run in a native directory and on the mount, and
/// getfacl, stat and the permission checks the kernel makes with the ACLs must agree.
/// </summary>
public class PosixAclTests
{
    private const string Script = """
        set -e
        umask 022
        nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "$1" 2>/dev/null && echo "$2 yes" || echo "$2 no"; }
        create() { perl -e 'use Fcntl; sysopen(my $f, $ARGV[0], O_CREAT|O_WRONLY, oct($ARGV[1])) or die "$ARGV[0]: $!"' "$@"; }
        # gnulib's copy of the mode as an ACL (sed -i, cp -p) must leave the mode alone
        printf 'a\nb\n' > sed.txt && chmod 644 sed.txt && sed -i s/a/c/ sed.txt
        printf 'a\n' > sedx.sh && chmod 755 sedx.sh && sed -i s/a/b/ sedx.sh
        # a named entry, then chmod: the mask follows the group bits and back
        touch named && setfacl -m u:65534:rw named && stat -c '%n %a' named && chmod 600 named && stat -c '%n %a' named
        nobody 'cat named' named-read-masked
        chmod 664 named && nobody 'cat named' named-read-unmasked
        touch granted && chmod 600 granted && nobody 'cat granted' before-grant && setfacl -m u:65534:r granted && nobody 'cat granted' after-grant
        touch denied && chmod 644 denied && setfacl -m u:65534:- denied && nobody 'cat denied' denied-read
        # an ACL equivalent to a mode is a mode
        touch equiv && setfacl -m u::rwx,g::r,o::- equiv
        touch emptied && setfacl -m u:65534:r,g:100:w emptied && setfacl -x u:65534 emptied && setfacl -x g:100 emptied
        touch stripped && setfacl -m u:65534:r stripped && setfacl -b stripped
        touch none && setfacl -b none && mkdir nodefault && setfacl -k nodefault
        # default ACLs: inherited by new entries (the umask does not apply), directories keep them
        mkdir dd && setfacl -d -m u:65534:rwx,g::r-x,o::- dd
        touch dd/file && mkdir dd/dir && mkdir dd/dir/deeper && mkfifo dd/fifo && ln -s file dd/link
        (umask 077 && touch dd/umask077 && mkdir dd/umask077dir)
        create dd/mode600 600 && create dd/mode2755 2755
        nobody 'echo hi > dd/file' inherited-write
        mkdir minimal && setfacl -d -m u::rwx,g::r-x,o::r-x minimal && (umask 077 && touch minimal/file && mkdir minimal/dir)
        # a default ACL on a file is refused; removing one is fine
        touch notdir && (setfacl -d -m u:65534:r notdir 2>/dev/null && echo default-on-file yes || echo default-on-file no)
        mkdir rmdefault && setfacl -d -m u:65534:r rmdefault && setfacl -k rmdefault
        # the tools that copy ACLs
        cp -p named named.cp-p && cp -a dd dd.cp-a && cp named named.cp && mkdir moved && mv named.cp-p dd/file moved/
        # a non-member of the group who sets an ACL loses set-group-id
        touch sgid && chown 65534:100 sgid && chmod 2775 sgid && setpriv --reuid=65534 --regid=65534 --clear-groups setfacl -m u:0:r sgid
        touch sgid-root && chown 0:100 sgid-root && chmod 2775 sgid-root && setfacl -m u:65534:r sgid-root
        """;

    private const string Report = """
        find . -mindepth 1 | LC_ALL=C sort | while read -r f; do stat -c '%n %A %u %g' "$f"; [ -L "$f" ] || getfacl -pn "$f"; done
        """;

    [Fact]
    public void AclsBehaveAsOnALocalFileSystem()
    {
        using var m = new MountedStore();
        m.Sh($"chmod 755 {m.Root} {m.MountPoint}");
        string native = Path.Combine(m.Root, "native");
        Directory.CreateDirectory(native);
        m.Sh($"chmod 755 {native}");
        string expected = m.Sh(Script, cwd: native) + m.Sh(Report, cwd: native);
        // The script checks what it means to check.
        Assert.Contains("named-read-masked no\n", expected);
        Assert.Contains("after-grant yes\n", expected);
        Assert.Contains("./sed.txt -rw-r--r-- 0 0\n", expected);
        Assert.Contains("default:user:65534:rwx\n", expected);
        Assert.Contains("./sgid -rwxrwxr-x 65534 100\n", expected);

        string actual = m.Sh(Script) + m.Sh(Report);
        Assert.Equal(expected, actual);
        m.Unmount();
        m.Mount();
        Assert.Equal(m.Sh(Report, cwd: native), m.Sh(Report));
    }

    [Fact]
    public void SedInPlaceLeavesNoModeChangeInThePatch()
    {
        // git's patches know modes 644 and 755 only: a script that sed -i left 0600 would show as a mode change.
        using var m = new MountedStore(b =>
        {
            File.WriteAllText(Path.Combine(b, "run.sh"), "#!/bin/sh\necho two\n");
            File.SetUnixFileMode(Path.Combine(b, "run.sh"), (UnixFileMode)0x1ED); // 0755
            File.WriteAllText(Path.Combine(b, "a.txt"), "one\ntwo\n");
            File.SetUnixFileMode(Path.Combine(b, "a.txt"), (UnixFileMode)0x1A4); // 0644
        });
        m.Sh("sed -i s/two/TWO/ run.sh a.txt");
        Assert.Equal("755 run.sh\n644 a.txt\n", m.Sh("stat -c '%a %n' run.sh a.txt"));
        m.Unmount();
        string patch = Path.Combine(m.Root, "p.patch");
        m.Sh($"{MountedStore.AgentfsCommand} patch {m.StorePath} -o {patch}", cwd: m.Root);
        string text = File.ReadAllText(patch);
        Assert.Contains("+echo TWO", text);
        Assert.Contains("+TWO", text);
        Assert.DoesNotContain("mode", text);
        string copy = Path.Combine(m.Root, "copy");
        m.Sh($"cp -a {m.BaseDir} {copy} && cd {copy} && git apply {patch}", cwd: m.Root);
        Assert.Equal("755 run.sh\n644 a.txt\n", m.Sh("stat -c '%a %n' run.sh a.txt", cwd: copy));
    }

    [Fact]
    public void BaseFilesShowTheirAclsAndChmodKeepsThemInStep()
    {
        using var m = new MountedStore(b =>
        {
            Run($"cd {b} && touch f && setfacl -m u:65534:rw,g:100:r f && mkdir d && setfacl -d -m u:65534:rx d && setfacl -m u:65534:rwx d");
        });
        string native = Path.Combine(m.Root, "native");
        m.Sh($"cp -a {m.BaseDir} {native}", cwd: m.Root);
        const string steps = "umask 022 && touch d/new && chmod 600 f && mkdir d/sub";
        Assert.Equal(m.Sh(Report, cwd: m.BaseDir), m.Sh(Report));
        m.Sh(steps, cwd: native);
        m.Sh(steps);
        string expected = m.Sh(Report, cwd: native);
        Assert.Contains("default:user:65534:r-x\n", expected);
        Assert.Equal(expected, m.Sh(Report));
    }

    private static void Run(string script)
    {
        using var p = Process.Start("bash", ["-c", script])!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
