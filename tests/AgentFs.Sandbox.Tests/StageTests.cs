namespace AgentFs.Sandbox.Tests;

/// <summary>The base's stage (where the launcher's namespace shows the base before the session covers its path)
/// must hide nothing of the host: it once was a tmpfs over /dev/shm, which made every --bind, --ro or --hide of
/// a path there fail with "Can't find source path".</summary>
public sealed class StageTests : IDisposable
{
    private readonly SandboxProject _p = new(b => File.WriteAllText(Path.Combine(b, "f"), "base\n"));

    public void Dispose() => _p.Dispose();

    [Fact]
    public void A_bind_of_a_host_path_in_dev_shm_is_writable_inside_and_the_base_is_still_seen_beside_the_session()
    {
        string shared = Path.Combine("/dev/shm", "agentfs-stage-test-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(shared, "host\n");
        try
        {
            var r = _p.RunScript($"""
                cat {shared}
                echo inside >> {shared}
                echo session > f
                cat /run/agentfs/base/f
                """, "--bind", shared);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal("host\nbase\n", r.Stdout);
            Assert.Equal("host\ninside\n", File.ReadAllText(shared));
            Assert.Equal("base\n", File.ReadAllText(Path.Combine(_p.BaseDir, "f")));
            string runtime = AgentFs.Control.ControlPaths.ChooseRuntimeDirectory();
            // Stages of sandboxes that still run (other tests) may be there; none of an agentfs run that ended.
            var left = (Directory.Exists(runtime) ? Directory.GetDirectories(runtime, "stage-*") : [])
                .Where(d => !Directory.Exists($"/proc/{Path.GetFileName(d).Split('-')[1]}"));
            Assert.Empty(left);
        }
        finally { File.Delete(shared); }
    }
}
