using System.Diagnostics;
using AgentFs.Fuse;

namespace AgentFs.Cli.Tests;

/// <summary>
/// The store never goes into its base and a mount never lands inside it, however the path is spelled: through a
/// symlink or a bind mount of the base elsewhere. Run with the real ./agentfs; a mount inside
/// the base used to be served and hang the first process that looked below it (the daemon read its own mount).
/// ('..' needs no case of its own: paths are made absolute lexically, as .NET does, before anything uses them, so
/// "link/../x" names the x beside the link both in the check and in the open.)
/// </summary>
public sealed class RealPathTrustTests : IClassFixture<ScriptFixture>
{
    private readonly ScriptFixture _script;

    public RealPathTrustTests(ScriptFixture script) => _script = script;

    private static void Run(string program, params string[] args)
    {
        using var p = Process.Start(program, args)!;
        Assert.True(p.WaitForExit(30_000), $"{program} did not finish");
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', args)} exited {p.ExitCode}");
    }

    private static bool AnyAgentfsMountUnder(string root) =>
        File.ReadLines("/proc/self/mountinfo").Any(l => l.Contains(" - fuse.agentfs ") && l.Split(' ')[4].StartsWith(root, StringComparison.Ordinal));

    [Fact]
    public void Init_refuses_a_store_that_would_land_in_the_base_through_a_symlink_or_dotdot()
    {
        using var sb = new Sandbox(init: false);
        File.CreateSymbolicLink(sb.PathIn("lnk"), "base");                    // lnk -> base
        File.CreateSymbolicLink(sb.PathIn("src-link"), Path.Combine(sb.BaseDir, "src"));

        foreach (var (store, baseArg) in new[]
                 {
                     ("lnk/inner.agentfs", "base"),                 // the store's directory is the base, spelled otherwise
                     ("base/inner.agentfs", "lnk"),                 // the base spelled through the link
                     ("src-link/inner.agentfs", "base"),            // a directory below the base
                 })
        {
            var r = _script.Run(sb.Root, null, "init", store, "--base", baseArg);
            r.UserError("inside its base directory", Path.GetFullPath(store, sb.Root), sb.BaseDir);
            Assert.False(File.Exists(sb.PathIn(store)), $"{store}: a store file was created\n{r}");
        }
        sb.AssertBaseUnchanged();
        Assert.Empty(Directory.GetFiles(sb.Root, "*.agentfs*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Mount_refuses_a_mountpoint_inside_the_base_however_it_is_reached()
    {
        using var sb = new Sandbox();
        string bind = sb.PathIn("base-bound");
        Directory.CreateDirectory(bind);
        File.CreateSymbolicLink(sb.PathIn("empty-link"), Path.Combine(sb.BaseDir, "empty"));
        string before = sb.StoreSnapshot();
        Run("mount", "--bind", sb.BaseDir, bind);
        try
        {
            foreach (string mp in (string[])[
                         "empty-link",                   // a symlink to base/empty
                         "base-bound/empty",             // the base bind-mounted elsewhere
                     ])
            {
                var r = _script.Run(sb.Root, null, "mount", sb.StorePath, mp, "--background");
                try
                {
                    r.UserError("inside the base directory", sb.BaseDir, sb.StorePath);
                    Assert.False(AnyAgentfsMountUnder(sb.Root), $"{mp}: a mount was left behind");
                }
                finally
                {
                    // Before the fix the mount was made: take it down before anything looks below it.
                    foreach (string m in (string[])[Path.Combine(sb.BaseDir, "empty"), Path.Combine(bind, "empty")])
                        if (AgentMount.IsMountPoint(m)) Run("umount", "-l", m);
                    if (r.ExitCode == 0 && int.TryParse(r.Stdout.Trim(), out int pid)) try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { }
                }
            }

            // The library refuses the same way (AgentMount.Mount is what orchestrators call).
            var e = Assert.Throws<AgentFsException>(() => AgentMount.Mount(sb.StorePath, Path.Combine(bind, "empty")).Dispose());
            Assert.Equal(Errno.EINVAL, e.Errno);
            Assert.Contains(sb.BaseDir, e.Message);
            Assert.False(AnyAgentfsMountUnder(sb.Root));
        }
        finally
        {
            Run("umount", "-l", bind);
        }
        Assert.Equal(before, sb.StoreSnapshot());
        // The branch is free again: nothing holds its lease after the refusals.
        _script.Run(sb.Root, null, "checkpoint", sb.StorePath, "-m", "after").Ok();
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Mount_refuses_a_mountpoint_that_holds_the_store()
    {
        using var sb = new Sandbox(init: false);
        string mp = sb.PathIn("mnt");
        Directory.CreateDirectory(mp);
        string store = Path.Combine(mp, "store.agentfs");
        _script.Run(sb.Root, null, "init", store, "--base", sb.BaseDir).Ok();
        // Mounting over the store's own directory would hide it from every later open by path (the WAL checkpointer,
        // the mount log): refused because the mountpoint is not empty.
        _script.Run(sb.Root, null, "mount", store, mp, "--background").UserError(mp, "not empty");
        Assert.False(AnyAgentfsMountUnder(sb.Root));
        sb.AssertBaseUnchanged();
    }
}
