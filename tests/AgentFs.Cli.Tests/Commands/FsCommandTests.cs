using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace AgentFs.Cli.Tests;

public class FsCommandTests
{
    [Fact]
    public void Write_then_cat_round_trips_any_bytes_through_stdin_and_stdout()
    {
        using var sb = new Sandbox();
        byte[] data = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 31 + (i >> 8))).ToArray();
        Cli.RunWithInput(data, "fs", sb.StorePath, "write", "/src/lib/new.bin").Ok();
        Assert.Equal(data, sb.Fs("cat", "/src/lib/new.bin").Ok().StdoutBytes);
        // Truncates an existing file, and replaces a base file without touching the base.
        Cli.RunWithInput("short", "fs", sb.StorePath, "write", "src/lib/new.bin").Ok();
        Assert.Equal("short", sb.Cat("/src/lib/new.bin"));
        Cli.RunWithInput("changed\n", "fs", sb.StorePath, "write", "a.txt").Ok();
        Assert.Equal("changed\n", sb.Cat("/a.txt"));
        Cli.RunWithInput([], "fs", sb.StorePath, "write", "/empty/zero").Ok();
        Assert.Empty(sb.Fs("cat", "/empty/zero").Ok().StdoutBytes);
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Cat_reads_base_files_follows_symlinks_and_json_carries_base64()
    {
        using var sb = new Sandbox();
        Assert.Equal(File.ReadAllBytes(Path.Combine(sb.BaseDir, "src/lib/blob.bin")), sb.Fs("cat", "/src/lib/blob.bin").Ok().StdoutBytes);
        Assert.Equal("hello\n", sb.Cat("/link"));
        var doc = JsonDocument.Parse(sb.Fs("cat", "/a.txt", "--json").Ok().Stdout).RootElement;
        Assert.Equal("/a.txt", doc.GetProperty("path").GetString());
        Assert.Equal("main", doc.GetProperty("branch").GetString());
        Assert.Equal(6, doc.GetProperty("size").GetInt64());
        Assert.Equal("hello\n", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(doc.GetProperty("data_base64").GetString()!)));
        sb.Fs("cat", "/src").UserError("/src", "directory");
        sb.Fs("cat", "/nope.txt").UserError("/nope.txt", "does not exist");
    }

    [Fact]
    public void Ls_lists_names_long_form_and_json()
    {
        using var sb = new Sandbox();
        Assert.Equal(["a.txt", "empty", "link", "src"], sb.Fs("ls", "/").Ok().StdoutLines);
        Assert.Equal(["lib", "main.c"], sb.Fs("ls", "src").Ok().StdoutLines);
        Assert.Equal(["main.c"], sb.Fs("ls", "/src/main.c").Ok().StdoutLines);
        Assert.Empty(sb.Fs("ls", "/empty").Ok().StdoutBytes);

        var lines = sb.Fs("ls", "-l", "/").Ok().StdoutLines;
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("-rw-r--r-- ", lines[0]);
        Assert.EndsWith(" a.txt", lines[0]);
        Assert.StartsWith("drwx", lines[1]);
        Assert.StartsWith("lrwxrwxrwx ", lines[2]);
        Assert.EndsWith(" link -> a.txt", lines[2]);

        var doc = JsonDocument.Parse(sb.Fs("ls", "/src", "--json").Ok().Stdout).RootElement;
        Assert.Equal("/src", doc.GetProperty("path").GetString());
        Assert.Equal("main", doc.GetProperty("branch").GetString());
        var entries = doc.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(["lib", "main.c"], entries.Select(e => e.GetProperty("name").GetString()));
        Assert.Equal("directory", entries[0].GetProperty("type").GetString());
        Assert.Equal("/src/main.c", entries[1].GetProperty("path").GetString());
        Assert.Equal("file", entries[1].GetProperty("type").GetString());
        Assert.Equal("0755", entries[1].GetProperty("mode").GetString());
        Assert.Equal(29, entries[1].GetProperty("size").GetInt64());
        foreach (var key in new[] { "ino", "nlink", "uid", "gid", "rdev", "blocks", "atime", "mtime", "ctime", "target" })
            Assert.True(entries[1].TryGetProperty(key, out _), key);
        sb.Fs("ls", "/missing").UserError("/missing", "does not exist");
    }

    [Fact]
    public void Ls_follows_a_symlink_to_a_directory_but_ls_l_shows_the_link()
    {
        using var sb = new Sandbox();
        sb.Fs("symlink", "src", "/code").Ok();
        Assert.Equal(["lib", "main.c"], sb.Fs("ls", "/code").Ok().StdoutLines);
        Assert.EndsWith(" code -> src", Assert.Single(sb.Fs("ls", "-l", "/code").Ok().StdoutLines));
    }

    [Fact]
    public void Ls_l_lists_names_that_are_not_UTF8_and_dangling_links()
    {
        using var sb = new Sandbox(init: false);
        string dir = sb.PathIn("odd");
        Directory.CreateDirectory(dir);
        using (var p = Process.Start(new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", "touch \"$(printf 'bad\\377name')\" && ln -s nowhere dangling" }, WorkingDirectory = dir })!)
            p.WaitForExit();
        string store = sb.PathIn("odd.agentfs");
        Cli.Run("init", store, "--base", dir).Ok();
        var lines = Cli.Run("fs", store, "ls", "-l").Ok().StdoutLines;
        Assert.Equal(2, lines.Length);
        Assert.EndsWith(" bad\uFFFDname", lines[0]);
        Assert.EndsWith(" dangling -> nowhere", lines[1]);
        Assert.Equal(2, JsonDocument.Parse(Cli.Run("fs", store, "ls", "--json").Ok().Stdout).RootElement.GetProperty("entries").GetArrayLength());
        Assert.Equal(["dangling"], Cli.Run("fs", store, "ls", "/dangling").Ok().StdoutLines);
        Cli.Run("fs", store, "cat", "/dangling").UserError("nowhere");
        // .NET cannot spell the odd name to delete it; let the shell do it.
        using (var p = Process.Start(new ProcessStartInfo("/bin/rm", ["-rf", dir]))!) p.WaitForExit();
    }

    [Fact]
    public void Stat_shows_attributes_as_text_and_json()
    {
        using var sb = new Sandbox();
        var text = sb.Fs("stat", "/link").Ok().StdoutLines;
        Assert.Contains("type: symlink", text);
        Assert.Contains("target: a.txt", text);
        Assert.Contains("path: /link", text);
        var doc = JsonDocument.Parse(sb.Fs("stat", "/src/main.c", "--json").Ok().Stdout).RootElement;
        Assert.Equal("0755", doc.GetProperty("mode").GetString());
        Assert.Equal(JsonValueKind.Null, doc.GetProperty("target").ValueKind);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", doc.GetProperty("mtime").GetString());
    }

    [Fact]
    public void Mkdir_and_mkdir_p_create_directories_and_refuse_what_mkdir_refuses()
    {
        using var sb = new Sandbox();
        sb.Fs("mkdir", "/d").Ok();
        sb.Fs("mkdir", "-p", "/x/y/z").Ok();
        sb.Fs("mkdir", "-p", "/x/y").Ok();
        Assert.Equal("directory", JsonDocument.Parse(sb.Fs("stat", "/x/y/z", "--json").Ok().Stdout).RootElement.GetProperty("type").GetString());
        sb.Fs("mkdir", "/d").UserError("/d", "exists");
        sb.Fs("mkdir", "/q/r").UserError("/q/r", "mkdir -p");
        sb.Fs("mkdir", "-p", "/a.txt/sub").UserError("a.txt");
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Rm_removes_files_and_with_r_trees_but_not_a_directory_without_r()
    {
        using var sb = new Sandbox();
        sb.Fs("rm", "/a.txt").Ok();
        Assert.DoesNotContain("a.txt", sb.Fs("ls").Ok().StdoutLines);
        sb.Fs("rm", "/src").UserError("/src", "rm -r");
        sb.Fs("rm", "-r", "/src").Ok();
        Assert.Equal(["empty", "link"], sb.Fs("ls").Ok().StdoutLines);
        sb.Fs("rm", "/nothing").UserError("/nothing");
        sb.Fs("rm", "-r", "/").UserError("root");
        Assert.True(File.Exists(Path.Combine(sb.BaseDir, "a.txt")));
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Mv_renames_and_moves_into_an_existing_directory()
    {
        using var sb = new Sandbox();
        sb.Fs("mv", "/a.txt", "/b.txt").Ok();
        Assert.Equal("hello\n", sb.Cat("/b.txt"));
        sb.Fs("mv", "/b.txt", "/empty").Ok();
        Assert.Equal(["b.txt"], sb.Fs("ls", "/empty").Ok().StdoutLines);
        sb.Fs("mv", "/src", "/code").Ok();
        Assert.Equal(["lib", "main.c"], sb.Fs("ls", "/code").Ok().StdoutLines);
        sb.Fs("mv", "/code", "/code/lib").UserError("/code");
        sb.Fs("mv", "/gone", "/x").UserError("/gone");
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Ln_makes_a_hard_link_that_shares_content()
    {
        using var sb = new Sandbox();
        sb.Write("/f.txt", "one").Ok();
        sb.Fs("ln", "/f.txt", "/g.txt").Ok();
        Assert.Equal(2, JsonDocument.Parse(sb.Fs("stat", "/g.txt", "--json").Ok().Stdout).RootElement.GetProperty("nlink").GetInt32());
        sb.Write("/g.txt", "two").Ok();
        Assert.Equal("two", sb.Cat("/f.txt"));
        sb.Fs("ln", "/f.txt", "/empty").Ok();
        Assert.Equal("two", sb.Cat("/empty/f.txt"));
        sb.Fs("ln", "/src", "/srclink").UserError();
        sb.Fs("ln", "/f.txt", "/g.txt").UserError("g.txt", "exists");
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Symlink_and_ln_s_make_symbolic_links()
    {
        using var sb = new Sandbox();
        sb.Fs("symlink", "src/main.c", "/m").Ok();
        Assert.Equal("int main(void) { return 0; }\n", sb.Cat("/m"));
        sb.Fs("ln", "-s", "../a.txt", "/empty/up").Ok();
        Assert.Equal("hello\n", sb.Cat("/empty/up"));
        Assert.EndsWith(" up -> ../a.txt", sb.Fs("ls", "-l", "/empty").Ok().StdoutLines[0]);
        sb.Fs("symlink", "dangling", "/d").Ok();
        sb.Fs("cat", "/d").UserError("dangling");
        sb.Fs("symlink", "x", "/m").UserError("m", "exists");
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Chmod_sets_octal_modes_and_rejects_anything_else()
    {
        using var sb = new Sandbox();
        sb.Fs("chmod", "600", "/a.txt").Ok();
        Assert.StartsWith("-rw------- ", sb.Fs("ls", "-l", "/a.txt").Ok().StdoutLines[0]);
        sb.Fs("chmod", "1777", "/empty").Ok();
        Assert.Equal("1777", JsonDocument.Parse(sb.Fs("stat", "/empty", "--json").Ok().Stdout).RootElement.GetProperty("mode").GetString());
        string before = sb.StoreSnapshot();
        sb.Fs("chmod", "u+x", "/a.txt").UserError("u+x", "octal");
        sb.Fs("chmod", "8", "/a.txt").UserError("'8'");
        sb.Fs("chmod", "77777", "/a.txt").UserError("77777");
        sb.Fs("chmod", "644", "/nope").UserError("/nope");
        Assert.Equal(before, sb.StoreSnapshot());
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Branch_option_selects_the_branch_and_an_unknown_one_is_an_error()
    {
        using var sb = new Sandbox();
        Cli.Run("branch", sb.StorePath, "feature", "--from", "main").Ok();
        sb.Write("/only-on-feature", "f", branch: "feature").Ok();
        Assert.Equal("f", sb.Cat("/only-on-feature", branch: "feature"));
        sb.Fs("cat", "/only-on-feature").UserError("/only-on-feature", "main");
        string before = sb.StoreSnapshot();
        sb.Fs("ls", "--branch", "nope").UserError("nope", "branches");
        Cli.RunWithInput("x", "fs", sb.StorePath, "write", "/x", "--branch", "nope").UserError("nope");
        Assert.Equal(before, sb.StoreSnapshot());
    }

    [Fact]
    public void A_path_with_NUL_is_one_line_of_error_for_reads_and_writes()
    {
        using var sb = new Sandbox();
        string before = sb.StoreSnapshot();
        sb.Fs("cat", "/a\0b").UserError("NUL", "a\\0b");
        sb.Fs("ls", "/a\0b").UserError("NUL");
        Cli.RunWithInput("x", "fs", sb.StorePath, "write", "/a\0b").UserError("NUL");
        sb.Fs("mkdir", "-p", "/d\0").UserError("NUL");
        sb.Fs("symlink", "t\0", "/l").UserError("NUL");
        Assert.Equal(before, sb.StoreSnapshot());
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Usage_errors_exit_2_with_one_line()
    {
        using var sb = new Sandbox();
        sb.Fs().UsageError("fs --help");
        sb.Fs("frobnicate").UsageError("frobnicate");
        sb.Fs("ls", "--bogus").UsageError("--bogus");
        sb.Fs("mv", "/a.txt").UsageError("mv --help");
        Assert.Equal(["a.txt", "empty", "link", "src"], sb.Fs("ls").Ok().StdoutLines);
    }

    [Fact]
    public void A_name_after_double_dash_may_start_with_a_dash()
    {
        using var sb = new Sandbox();
        Cli.RunWithInput("dash", "fs", sb.StorePath, "write", "--", "-x").Ok();
        Assert.Equal("dash", sb.Fs("cat", "--", "-x").Ok().Stdout);
    }

    [Fact]
    public void Writing_while_another_live_process_holds_the_branch_is_refused_but_reading_works()
    {
        using var sb = new Sandbox();
        sb.Write("/f", "before").Ok();
        using var holder = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            using (var c = new SqliteConnection($"Data Source={sb.StorePath};Pooling=False"))
            {
                c.Open();
                using var cmd = c.CreateCommand();
                cmd.CommandText = "INSERT OR REPLACE INTO leases(branch, pid, host, started_ns, proc_start) VALUES('main', $p, $h, 0, NULL)";
                cmd.Parameters.AddWithValue("$p", holder.Id);
                cmd.Parameters.AddWithValue("$h", Environment.MachineName);
                cmd.ExecuteNonQuery();
            }
            string before = sb.StoreSnapshot();
            sb.Write("/f", "after").UserError("main", holder.Id.ToString());
            Cli.Run("checkpoint", sb.StorePath).UserError("main", holder.Id.ToString());
            Assert.Equal("before", sb.Cat("/f"));
            Assert.Contains($"main\t-\t", Cli.Run("branches", sb.StorePath).Ok().Stdout);
            Assert.Contains($"\t{holder.Id}", Cli.Run("branches", sb.StorePath).Ok().Stdout);
            Assert.Equal(before, sb.StoreSnapshot());
        }
        finally
        {
            holder.Kill();
            holder.WaitForExit();
        }
        // The holder is gone: its lease no longer counts.
        sb.Write("/f", "after").Ok();
        Assert.Equal("after", sb.Cat("/f"));
    }
}
