using System.Text;

namespace AgentFs.Tests.Versions;

/// <summary>One binary rule, git's (a NUL among the first 8000 bytes), for patch, stat and trace.</summary>
public class BinaryRuleTests
{
    private static readonly byte[] LateNul = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("x\n", 5000)) + "a\0b\ntail\n");
    private static readonly byte[] LateNulChanged = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("x\n", 5000)) + "a\0b\ntail changed\n");

    [Fact]
    public void A_nul_after_the_first_8000_bytes_is_text_for_patch_stat_and_trace_as_for_git()
    {
        using var t = new TempStore();
        t.WriteBase("late-nul.txt", LateNul);
        t.WriteBase("early-nul.bin", [.. "x\n"u8, 0, .. "rest\n"u8]);
        using var store = t.Create();
        using (var fs = store.OpenFileSystem())
        {
            fs.WriteAllBytes("late-nul.txt", LateNulChanged);
            fs.WriteAllBytes("early-nul.bin", [.. "x\n"u8, 0, .. "rest changed\n"u8]);
        }

        // What git itself says of the same change.
        string repo = Path.Combine(t.Root, "git");
        Trees.Copy(t.BaseDir, repo);
        Git.Ok(repo, "init", "-q");
        Git.Ok(repo, "add", "-A");
        Git.Ok(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base");
        File.WriteAllBytes(Path.Combine(repo, "late-nul.txt"), LateNulChanged);
        File.WriteAllBytes(Path.Combine(repo, "early-nul.bin"), [.. "x\n"u8, 0, .. "rest changed\n"u8]);
        var numstat = Git.Ok(repo, "diff", "--numstat").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t')).ToDictionary(f => f[2], f => (f[0], f[1]));
        Assert.Equal(("1", "1"), numstat["late-nul.txt"]);
        Assert.Equal(("-", "-"), numstat["early-nul.bin"]);

        var stats = store.DiffStat("base", "main").ToDictionary(s => s.Change.Path);
        Assert.False(stats["late-nul.txt"].IsBinary);
        Assert.Equal((1L, 1L), (stats["late-nul.txt"].Insertions, stats["late-nul.txt"].Deletions));
        Assert.True(stats["early-nul.bin"].IsBinary);

        string patch = PatchGitTests.ApplyWithGit(t, store); // git apply reproduces main
        Assert.Contains("+tail changed\n", patch);
        Assert.DoesNotContain("late-nul.txt and", patch); // no "Binary files ... differ" for it

        var record = store.Trace();
        AgentFs.Tests.Trace.AgentTraceSchema.Check(record);
        var late = record.Files.Single(f => f.Path == "late-nul.txt").Conversations.Single().Ranges.Single();
        Assert.Equal((5002, 5002), (late.StartLine, late.EndLine));
        Assert.DoesNotContain(record.Files, f => f.Path == "early-nul.bin");
        Assert.Contains("\"binary\": true", record.ToJson());
    }
}
