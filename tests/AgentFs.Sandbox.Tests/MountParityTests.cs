namespace AgentFs.Sandbox.Tests;

/// <summary>The session in a sandbox is the same file system as a mounted one. The sandbox once set up its own
/// FUSE options and left POSIX ACLs out: GNU sed -i (which copies the ACL of the file it replaces) then turned a
/// 0644 file into 0600 inside agentfs run, and setfacl's mask did not reach the mode.</summary>
public sealed class MountParityTests : IDisposable
{
    private readonly SandboxProject _p = new(b => File.WriteAllText(Path.Combine(b, "f.txt"), "a\n"));

    public void Dispose() => _p.Dispose();

    [Fact]
    public void Posix_acls_work_inside_as_on_a_mount_sed_i_keeps_the_mode_and_setfacl_sets_the_mask()
    {
        var r = _p.RunScript("""
            chmod 644 f.txt
            sed -i s/a/b/ f.txt
            stat -c %a f.txt
            echo x > g.txt && chmod 640 g.txt
            setfacl -m u:nobody:rw g.txt
            stat -c %a g.txt
            getfacl -cp g.txt | grep -E '^(user:nobody|mask)'
            """);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("644\n660\nuser:nobody:rw-\nmask::rw-\n", r.Stdout);
        Assert.Equal("a\n", File.ReadAllText(Path.Combine(_p.BaseDir, "f.txt")));
    }
}
