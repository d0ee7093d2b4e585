using System.Text.Json;

namespace AgentFs.Cli.Tests;

public class PatchCommandTests
{
    /// <summary>Applies a patch with git on a copy of the base and compares the result with the branch.</summary>
    private static void AssertGitReproducesBranch(Sandbox sb, string patchFile, string branch = "main")
    {
        string copy = sb.PathIn("copy-" + Guid.NewGuid().ToString("N")[..6]);
        DiffCommandTests.CopyTree(sb.BaseDir, copy);
        DiffCommandTests.Git(copy, "init", "-q");
        DiffCommandTests.Git(copy, "apply", "--check", patchFile);
        DiffCommandTests.Git(copy, "apply", patchFile);
        Directory.Delete(Path.Combine(copy, ".git"), true);
        // After git apply the copy holds the branch's tree: diffing the branch against the copy as a new
        // store's base shows no change of content, links or x bits.
        string check = sb.PathIn("check-" + Guid.NewGuid().ToString("N")[..6] + ".agentfs");
        Cli.Run("init", check, "--base", copy).Ok();
        using var branchStore = AgentStore.Open(sb.StorePath, new StoreOptions { ReadOnly = true });
        using var copyStore = AgentStore.Open(check, new StoreOptions { ReadOnly = true });
        using var expected = branchStore.OpenState(branch);
        using var actual = copyStore.OpenState("base");
        Assert.Equal(Describe(expected, "/"), Describe(actual, "/"));
    }

    private static string Describe(AgentFileSystem fs, string dir)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var e in fs.Enumerate(dir))
        {
            string p = dir == "/" ? "/" + e.NameString : dir + "/" + e.NameString;
            var a = fs.GetAttributes(p);
            if (a.IsDirectory) sb.Append(Describe(fs, p));
            else if (a.IsSymlink) sb.Append(p).Append(" -> ").Append(fs.ReadSymbolicLink(p)).Append('\n');
            else sb.Append(p).Append((a.Mode & 0x40) != 0 ? " x " : " - ").Append(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(fs.ReadAllBytes(p)))).Append('\n');
        }
        return sb.ToString();
    }

    [Fact]
    public void Patch_to_stdout_is_what_git_apply_takes()
    {
        using var sb = DiffCommandTests.Changed();
        var blob = File.ReadAllBytes(Path.Combine(sb.BaseDir, "src/lib/blob.bin"));
        blob[5] ^= 0xFF;
        Cli.RunWithInput(blob, "fs", sb.StorePath, "write", "/src/lib/blob.bin").Ok();
        sb.Fs("mv", "/src/main.c", "/src/moved main.c").Ok();
        sb.Write("/caf\u00e9 \"q\".txt", "odd\n").Ok();
        var r = Cli.Run("patch", sb.StorePath).Ok();
        Assert.Contains("GIT binary patch", r.Stdout);
        Assert.Contains("rename to src/moved main.c", r.Stdout);
        string file = sb.PathIn("p.patch");
        File.WriteAllBytes(file, r.StdoutBytes);
        AssertGitReproducesBranch(sb, file);
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Patch_to_a_file_prints_a_summary()
    {
        using var sb = DiffCommandTests.Changed();
        sb.Fs("mkdir", "/only-a-dir").Ok();
        string file = sb.PathIn("out.patch");
        var r = Cli.Run("patch", sb.StorePath, "-o", file).Ok();
        Assert.Equal($"wrote {file}: 4 files changed from base to main; left out 1 change git cannot express (special files, empty directories, permission bits other than x; 'agentfs diff --json' lists them)",
            r.StdoutLines.Single());
        Assert.Equal(Cli.Run("patch", sb.StorePath).Ok().Stdout, File.ReadAllText(file));
        AssertGitReproducesBranch(sb, file);
        var doc = JsonDocument.Parse(Cli.Run("patch", sb.StorePath, "-o", file, "--json").Ok().Stdout).RootElement;
        Assert.Equal(4, doc.GetProperty("files").GetInt32());
        Assert.Equal(0, doc.GetProperty("binary_files").GetInt32());
        Assert.Equal(1, doc.GetProperty("left_out").GetInt32());
        Assert.Equal(new FileInfo(file).Length, doc.GetProperty("bytes").GetInt64());
        Assert.Equal(file, doc.GetProperty("file").GetString());
        Assert.Empty(Directory.EnumerateFiles(sb.Root, ".out.patch.*"));
    }

    [Fact]
    public void Patch_between_checkpoints()
    {
        using var sb = new Sandbox();
        sb.Write("/one.txt", "1\n").Ok();
        long cp1 = sb.Checkpoint();
        sb.Write("/one.txt", "1\n2\n").Ok();
        long cp2 = sb.Checkpoint();
        var r = Cli.Run("patch", sb.StorePath, "--from", cp1.ToString(), "--to", cp2.ToString()).Ok();
        Assert.Contains("@@ -1 +1,2 @@\n 1\n+2\n", r.Stdout);
        Assert.DoesNotContain("new file", r.Stdout);
    }

    [Fact]
    public void Bad_input_is_one_clear_line_and_writes_nothing()
    {
        using var sb = DiffCommandTests.Changed();
        Cli.Run("patch", sb.StorePath, "-o", sb.PathIn("no/such/dir/x.patch")).UserError("does not exist");
        Assert.False(Directory.Exists(sb.PathIn("no")));
        Cli.Run("patch", sb.StorePath, "-o", sb.Root).UserError("is a directory");
        Cli.Run("patch", sb.StorePath, "--json").UsageError("--json needs -o FILE");
        Cli.Run("patch", sb.StorePath, "--from", "nope").UserError("'nope'");
        File.WriteAllText(Path.Combine(sb.BaseDir, "a.txt"), "drifted\n");
        string file = sb.PathIn("drift.patch");
        Cli.Run("patch", sb.StorePath, "-o", file).UserError("a.txt (changed in the base)");
        Assert.False(File.Exists(file));
    }
}
