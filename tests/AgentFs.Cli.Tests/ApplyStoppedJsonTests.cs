using System.Diagnostics;
using System.Text.Json;

namespace AgentFs.Cli.Tests;

/// <summary>
/// `agentfs apply --json` that stops after it began writing (here: a read-only bind mount over a directory of the
/// target, so the writes below it fail with EROFS) prints the document of what is in the target now, with the
/// error, and exits 1. Before, the lists were only in the stderr message. Real ./agentfs, real mount(8).
/// </summary>
public sealed class ApplyStoppedJsonTests : IClassFixture<ScriptFixture>
{
    private readonly ScriptFixture _script;

    public ApplyStoppedJsonTests(ScriptFixture script) => _script = script;

    private static void Run(string program, params string[] args)
    {
        using var p = Process.Start(program, args)!;
        Assert.True(p.WaitForExit(30_000));
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', args)} exited {p.ExitCode}");
    }

    [Fact]
    public void A_stopped_apply_prints_what_was_and_was_not_written_as_json()
    {
        using var sb = new Sandbox();
        sb.Write("/a.txt", "new a\n");
        sb.Write("/src/main.c", "int main(void) { return 1; }\n");
        sb.Write("/src/lib/new.h", "#define NEW 1\n");
        string target = sb.PathIn("target");
        Run("cp", "-a", sb.BaseDir, target);
        string readOnly = Path.Combine(target, "src");
        Run("mount", "--bind", readOnly, readOnly);
        CliResult r;
        try
        {
            Run("mount", "-o", "remount,bind,ro", readOnly);
            r = _script.Run(sb.Root, null, "apply", sb.StorePath, target, "--json");
        }
        finally { Run("umount", "-l", readOnly); }

        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Single(r.StderrLines);
        Assert.StartsWith("agentfs: apply of main to ", r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("main", root.GetProperty("branch").GetString());
        Assert.Equal(target, root.GetProperty("target").GetString());
        Assert.False(root.GetProperty("applied").GetBoolean());
        Assert.Equal(r.Stderr.Trim(), "agentfs: " + root.GetProperty("error").GetString());
        string[] done = root.GetProperty("done").EnumerateArray().Select(s => s.GetProperty("action").GetString() + " " + s.GetProperty("path").GetString()).ToArray();
        string[] notDone = root.GetProperty("not_done").EnumerateArray().Select(s => s.GetProperty("action").GetString() + " " + s.GetProperty("path").GetString()).ToArray();
        Assert.Equal(["write_file a.txt"], done);
        Assert.Contains("write_file src/main.c", notDone);
        Assert.Contains("write_file src/lib/new.h", notDone);
        // The document says what the target holds.
        Assert.Equal("new a\n", File.ReadAllText(Path.Combine(target, "a.txt")));
        Assert.Equal("int main(void) { return 0; }\n", File.ReadAllText(Path.Combine(target, "src", "main.c")));
        sb.AssertBaseUnchanged();
    }
}
