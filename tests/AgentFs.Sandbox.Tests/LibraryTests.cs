namespace AgentFs.Sandbox.Tests;

/// <summary>An orchestrator runs agents from C#: Sandbox.Start in its own process, several side by side, each on
/// its own branch, even at the same path (each sandbox has its own mount namespace).</summary>
public sealed class LibraryTests : IDisposable
{
    private readonly SandboxProject _p = new(b => File.WriteAllText(Path.Combine(b, "who"), "base\n"));

    public void Dispose() => _p.Dispose();

    [Fact]
    public void Two_sandboxes_in_one_process_each_change_only_their_own_branch_at_the_same_path()
    {
        using (var store = AgentStore.Open(_p.StorePath)) store.CreateBranch("agent-2", "main");
        string baseHash = SandboxProject.TreeHash(_p.BaseDir);
        SandboxedProcess Start(string branch, string name) => Sandbox.Start(new SandboxOptions
        {
            StorePath = _p.StorePath,
            Branch = branch,
            // Both write the same file at the same path, and each must still read its own after the other wrote.
            Command = ["bash", "-c", $"echo {name} > who; echo {name} > {name}.txt; sleep 1; [ \"$(cat who)\" = {name} ] && [ ! -e {(name == "one" ? "two" : "one")}.txt ]"],
            WorkingDirectory = _p.BaseDir,
        });

        using var one = Start("main", "one");
        using var two = Start("agent-2", "two");
        Assert.Equal(_p.BaseDir, one.MountPath);
        Assert.Equal(_p.BaseDir, two.MountPath);
        Assert.True(Task.WaitAll([one.Exit, two.Exit], TimeSpan.FromSeconds(60)), "the sandboxes did not end");
        Assert.Equal(0, one.WaitForExit());
        Assert.Equal(0, two.WaitForExit());

        Assert.Equal("one\n", one.FileSystem.ReadAllText("/who"));
        Assert.Equal("two\n", two.FileSystem.ReadAllText("/who"));
        Assert.Equal("one\n", one.FileSystem.ReadAllText("/one.txt"));
        Assert.Equal("two\n", two.FileSystem.ReadAllText("/two.txt"));
        Assert.Equal(baseHash, SandboxProject.TreeHash(_p.BaseDir));
        Assert.Equal("base\n", File.ReadAllText(Path.Combine(_p.BaseDir, "who")));
    }
}
