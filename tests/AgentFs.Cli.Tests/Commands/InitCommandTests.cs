using System.Text.Json;

namespace AgentFs.Cli.Tests;

public class InitCommandTests
{
    [Fact]
    public void Init_over_a_sample_directory_shows_the_base_and_never_writes_it()
    {
        using var sb = new Sandbox(init: false);
        var r = Cli.Run("init", sb.StorePath, "--base", sb.BaseDir).Ok();
        Assert.Contains(sb.StorePath, r.Stdout);
        Assert.True(File.Exists(sb.StorePath));
        Assert.Equal(["a.txt", "empty", "link", "src"], sb.Fs("ls").Ok().StdoutLines);
        Assert.Equal("hello\n", sb.Cat("/a.txt"));
        Assert.Equal(["main\t-"], Cli.Run("branches", sb.StorePath).Ok().StdoutLines.Select(l => string.Join('\t', l.Split('\t')[..2])));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Init_json_names_store_base_chunk_size_and_branch()
    {
        using var sb = new Sandbox(init: false);
        var r = Cli.Run("init", sb.StorePath, "--base", sb.BaseDir, "--chunk-size", "4096", "--json").Ok();
        var doc = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(Path.GetFullPath(sb.StorePath), doc.GetProperty("store").GetString());
        Assert.Equal(Path.GetFullPath(sb.BaseDir), doc.GetProperty("base").GetString());
        Assert.Equal(4096, doc.GetProperty("chunk_size").GetInt32());
        Assert.Equal("main", doc.GetProperty("branch").GetString());
        Assert.False(string.IsNullOrEmpty(doc.GetProperty("store_id").GetString()));
        using var store = AgentStore.Open(sb.StorePath, new StoreOptions { ReadOnly = true });
        Assert.Equal(4096, store.ChunkSize);
    }

    [Fact]
    public void Init_over_an_existing_store_fails_and_leaves_it_as_it_was()
    {
        using var sb = new Sandbox();
        sb.Write("/new.txt", "kept").Ok();
        string before = sb.StoreSnapshot();
        Cli.Run("init", sb.StorePath, "--base", sb.BaseDir).UserError(sb.StorePath, "already exists");
        Assert.Equal(before, sb.StoreSnapshot());
        Assert.Equal("kept", sb.Cat("/new.txt"));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Init_with_a_base_that_is_a_file_fails_and_creates_nothing()
    {
        using var sb = new Sandbox(init: false);
        string file = Path.Combine(sb.BaseDir, "a.txt");
        Cli.Run("init", sb.StorePath, "--base", file).UserError("a.txt", "not a directory");
        Assert.False(File.Exists(sb.StorePath));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Init_with_a_base_that_does_not_exist_fails_and_creates_nothing()
    {
        using var sb = new Sandbox(init: false);
        string missing = sb.PathIn("no-such-dir");
        Cli.Run("init", sb.StorePath, "--base", missing).UserError("no-such-dir", "does not exist");
        Assert.False(File.Exists(sb.StorePath));
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void Init_inside_the_base_is_refused()
    {
        using var sb = new Sandbox(init: false);
        Cli.Run("init", Path.Combine(sb.BaseDir, "s.agentfs"), "--base", sb.BaseDir).UserError("s.agentfs", "inside");
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Init_in_a_missing_directory_fails()
    {
        using var sb = new Sandbox(init: false);
        Cli.Run("init", sb.PathIn("nope/s.agentfs"), "--base", sb.BaseDir).UserError("nope", "does not exist");
    }

    [Fact]
    public void Init_with_a_bad_chunk_size_is_a_user_error_and_a_non_number_a_usage_error()
    {
        using var sb = new Sandbox(init: false);
        Cli.Run("init", sb.StorePath, "--base", sb.BaseDir, "--chunk-size", "1000").UserError("chunk size 1000");
        Cli.Run("init", sb.StorePath, "--base", sb.BaseDir, "--chunk-size", "big").UsageError("big", "init --help");
        Assert.False(File.Exists(sb.StorePath));
    }

    [Fact]
    public void Init_without_base_is_a_usage_error()
    {
        using var sb = new Sandbox(init: false);
        Cli.Run("init", sb.StorePath).UsageError("--base");
        Assert.False(File.Exists(sb.StorePath));
    }

    [Fact]
    public void Init_with_a_NUL_in_a_path_fails_with_one_line()
    {
        using var sb = new Sandbox(init: false);
        Cli.Run("init", sb.StorePath + "\0x", "--base", sb.BaseDir).UserError("NUL", "\\0");
        Cli.Run("init", sb.StorePath, "--base", sb.BaseDir + "\0x").UserError("NUL");
        Assert.False(File.Exists(sb.StorePath));
        sb.AssertBaseUnchanged();
    }
}
