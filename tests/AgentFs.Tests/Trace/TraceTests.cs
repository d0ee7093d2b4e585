using System.Text.Json;
using static AgentFs.Tests.Backup.BackupTestKit;

namespace AgentFs.Tests.Trace;

public class TraceTests
{
    private static Dictionary<string, string> Meta(params (string, string)[] kv) => kv.ToDictionary(p => p.Item1, p => p.Item2);

    private static JsonElement Json(AgentTraceRecord r) => AgentTraceSchema.Check(r);

    private static string Ranges(AgentTraceConversation c) => string.Join(',', c.Ranges.Select(r => $"{r.StartLine}-{r.EndLine}"));

    /// <summary>base: x.txt (a b c), gone.txt, bin.dat, mv-src.txt. Two checkpoints with their own conversation and
    /// model, then uncheckpointed changes on the head.</summary>
    private static void Session(TempStore t)
    {
        t.WriteBase("x.txt", "a\nb\nc\n");
        t.WriteBase("gone.txt", "bye\n");
        t.WriteBase("bin.dat", "\0\u0001binary");
        t.WriteBase("mv-src.txt", "1\n2\n3\n");
        t.WriteBase("same-mv.txt", "same\n");
        t.WriteBase("run.sh", "#!/bin/sh\n");
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        fs.WriteAllText("x.txt", "a\nB\nc\nd\n");
        fs.CreateDirectory("src");
        fs.WriteAllText("src/new.c", "int x;\nint y;\n");
        fs.Checkpoint("task 1", Meta(("conversation_url", "https://chat.example.com/c/1"), ("model", "anthropic/claude-opus-4-5"),
            ("session_url", "https://chat.example.com/s/9"), ("ticket", "T-1")));
        fs.WriteAllText("x.txt", "a\nB\nc\nd\ne\n");
        fs.Delete("gone.txt");
        fs.WriteAllBytes("bin.dat", [0, 1, 2, 3]);
        fs.Move("mv-src.txt", "mv-dst.txt");
        fs.WriteAllText("mv-dst.txt", "1\n2\nthree\n");
        fs.Move("same-mv.txt", "moved/same.txt".Replace("moved/", ""));
        fs.SetMode("run.sh", Convert.ToUInt32("755", 8));
        fs.CreateSymbolicLink("lnk", "x.txt");
        fs.Checkpoint("task 2", Meta(("url", "https://chat.example.com/c/2"), ("model_id", "openai/gpt-5"), ("contributor", "mixed")));
        fs.WriteAllText("x.txt", "z\na\nB\nc\nd\ne\n");
    }

    [Fact]
    public void Each_added_line_is_attributed_to_the_checkpoint_that_added_it()
    {
        using var t = new TempStore();
        Session(t);
        using var store = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        var r = store.Trace();
        var doc = Json(r);
        Assert.Equal("0.1.0", r.Version);
        Assert.Equal("agentfs", r.Tool!.Name);
        Assert.Null(r.Vcs);
        Assert.Equal(new[] { "mv-dst.txt", "src/new.c", "x.txt" }, r.Files.Select(f => f.Path));

        var x = r.Files.Single(f => f.Path == "x.txt").Conversations;
        Assert.Equal(3, x.Count);
        Assert.Equal("https://chat.example.com/c/1", x[0].Url);
        Assert.Equal(new AgentTraceContributor("ai", "anthropic/claude-opus-4-5"), x[0].Contributor);
        Assert.Equal("3-3,5-5", Ranges(x[0]));                       // B and d, of task 1
        Assert.Equal(new[] { new AgentTraceRelated("session", "https://chat.example.com/s/9") }, x[0].Related);
        Assert.Equal("https://chat.example.com/c/2", x[1].Url);
        Assert.Equal(new AgentTraceContributor("mixed", "openai/gpt-5"), x[1].Contributor);
        Assert.Equal("6-6", Ranges(x[1]));                            // e, of task 2
        Assert.Null(x[2].Url);                                        // z: on the head, after the last checkpoint
        Assert.Equal("1-1", Ranges(x[2]));
        Assert.All(x.SelectMany(c => c.Ranges), range => Assert.StartsWith("sha256:", range.ContentHash));

        Assert.Equal("1-2", Ranges(r.Files.Single(f => f.Path == "src/new.c").Conversations.Single()));
        var mv = r.Files.Single(f => f.Path == "mv-dst.txt").Conversations.Single();
        Assert.Equal("3-3", Ranges(mv)); // renamed, then one line changed: only that line

        var changes = doc.GetProperty("metadata").GetProperty("dev.agentfs").GetProperty("changes").EnumerateArray()
            .ToDictionary(c => c.GetProperty("path").GetString()!, c => c);
        Assert.Equal("deleted", changes["gone.txt"].GetProperty("status").GetString());
        Assert.True(changes["bin.dat"].GetProperty("binary").GetBoolean());
        Assert.Equal("renamed", changes["mv-dst.txt"].GetProperty("status").GetString());
        Assert.Equal("mv-src.txt", changes["mv-dst.txt"].GetProperty("old_path").GetString());
        Assert.Equal("renamed", changes["same.txt"].GetProperty("status").GetString());
        Assert.Equal(0, changes["same.txt"].GetProperty("added_lines").GetInt32());
        Assert.Equal("0644", changes["run.sh"].GetProperty("old_mode").GetString());
        Assert.Equal("symlink", changes["lnk"].GetProperty("type").GetString());
        Assert.False(changes.ContainsKey("mv-src.txt"));
        Assert.DoesNotContain(r.Files, f => f.Path is "same.txt" or "run.sh" or "lnk" or "bin.dat" or "gone.txt");

        var meta = doc.GetProperty("metadata").GetProperty("dev.agentfs");
        Assert.Equal("base", meta.GetProperty("from").GetProperty("kind").GetString());
        Assert.Equal("main", meta.GetProperty("to").GetProperty("branch").GetString());
        var cps = meta.GetProperty("checkpoints").EnumerateArray().ToList();
        Assert.Equal(new[] { "task 1", "task 2" }, cps.Select(c => c.GetProperty("message").GetString()));
        Assert.Equal("T-1", cps[0].GetProperty("meta").GetProperty("ticket").GetString());
    }

    [Fact]
    public void A_trace_between_checkpoints_covers_only_what_happened_between_them()
    {
        using var t = new TempStore();
        Session(t);
        using var store = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        var r = store.Trace(from: "1", to: "2");
        var doc = Json(r);
        var x = r.Files.Single(f => f.Path == "x.txt").Conversations.Single();
        Assert.Equal("https://chat.example.com/c/2", x.Url);
        Assert.Equal("5-5", Ranges(x));
        Assert.DoesNotContain(r.Files, f => f.Path == "src/new.c");
        var to = doc.GetProperty("metadata").GetProperty("dev.agentfs").GetProperty("to");
        Assert.Equal(2, to.GetProperty("checkpoint").GetInt64());
        Assert.Equal("task 2", to.GetProperty("message").GetString());
        Assert.Equal("https://chat.example.com/c/2", to.GetProperty("meta").GetProperty("url").GetString());

        // From the head back to base: undoing the rename and its edit adds back the one line the edit changed,
        // and the deleted file whole.
        var back = store.Trace(from: "main", to: "base");
        Json(back);
        Assert.Equal("3-3", Ranges(back.Files.Single(f => f.Path == "mv-src.txt").Conversations.Single()));
        Assert.Equal("1-1", Ranges(back.Files.Single(f => f.Path == "gone.txt").Conversations.Single()));

        // Nothing between a state and itself.
        var same = store.Trace(from: "2", to: "2");
        Json(same);
        Assert.Empty(same.Files);
    }

    [Fact]
    public void A_branch_carries_the_conversations_of_the_checkpoints_it_started_from()
    {
        using var t = new TempStore();
        Session(t);
        using (var store = AgentStore.Open(t.StorePath))
        {
            store.CreateBranch("alt", "1");
            using var fs = store.OpenFileSystem("alt");
            fs.WriteAllText("src/new.c", "int x;\nint y;\nint z;\n");
            fs.Checkpoint("alt task", Meta(("conversation_url", "https://chat.example.com/c/alt")));
        }
        ReleaseClosedStores();
        using var ro = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        var r = ro.Trace(branch: "alt");
        Json(r);
        var c = r.Files.Single(f => f.Path == "src/new.c").Conversations;
        Assert.Equal(new[] { "https://chat.example.com/c/1", "https://chat.example.com/c/alt" }, c.Select(v => v.Url));
        Assert.Equal(new[] { "1-2", "3-3" }, c.Select(Ranges));
        Assert.DoesNotContain(r.Files, f => f.Path == "mv-dst.txt"); // main's task 2 is not in alt's history
    }

    [Fact]
    public void Odd_names_and_type_changes_are_reported_as_well_as_they_can_be()
    {
        using var t = new TempStore();
        t.WriteBase("was-file", "x\n");
        using (var store = t.Create())
        using (var fs = store.OpenFileSystem())
        {
            var odd = fs.Inodes.Create(InodeNumbers.Root, [(byte)'n', 0xFE, (byte)'.', (byte)'t'], Convert.ToUInt32("644", 8));
            fs.Inodes.Write(odd.Ino, 0, "one\ntwo\n"u8);
            fs.Delete("was-file");
            fs.CreateSymbolicLink("was-file", "elsewhere");
        }
        ReleaseClosedStores();
        using var ro = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        var r = ro.Trace();
        var doc = Json(r);
        Assert.Equal("n\\xFE.t", r.Files.Single().Path);
        Assert.Equal("1-2", Ranges(r.Files.Single().Conversations.Single()));
        var change = doc.GetProperty("metadata").GetProperty("dev.agentfs").GetProperty("changes").EnumerateArray()
            .Single(c => c.GetProperty("path").GetString() == "was-file");
        Assert.Equal("type_changed", change.GetProperty("status").GetString());
        Assert.Equal("symlink", change.GetProperty("type").GetString());
    }

    [Fact]
    public void Unknown_refs_are_refused_by_name()
    {
        using var t = new TempStore();
        Session(t);
        using var store = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        var e = Assert.Throws<AgentFsException>(() => store.Trace(from: "nope"));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains("'nope' is not base, a checkpoint or a branch", e.Message); // ResolveState's words, as for diff
        e = Assert.Throws<AgentFsException>(() => store.Trace(to: "999"));
        Assert.Contains("checkpoint 999 does not exist", e.Message);
        e = Assert.Throws<AgentFsException>(() => store.Trace(branch: "ghost"));
        Assert.Contains("branch ghost does not exist", e.Message);
    }

    [Fact]
    public void Trace_of_a_branch_that_another_store_object_is_writing_sees_its_committed_state()
    {
        using var t = new TempStore();
        t.WriteBase("log.txt", "");
        using var writerStore = t.Create(new StoreOptions { CommitInterval = TimeSpan.FromMilliseconds(10) });
        using var fs = writerStore.OpenFileSystem();
        bool stop = false;
        var writer = new Thread(() =>
        {
            var text = new System.Text.StringBuilder();
            for (int i = 0; !Volatile.Read(ref stop); i++)
            {
                text.Append("line ").Append(i).Append('\n');
                fs.WriteAllText("log.txt", text.ToString());
                Thread.Sleep(1);
            }
        });
        writer.Start();
        Thread.Sleep(100);
        try
        {
            using var reader = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
            for (int round = 0; round < 5; round++)
            {
                var r = reader.Trace();
                Json(r);
                var f = r.Files.SingleOrDefault(x => x.Path == "log.txt");
                if (f != null)
                {
                    var ranges = f.Conversations.Single().Ranges;
                    Assert.Equal(1, ranges.Single().StartLine); // every line of the log is added
                }
            }
        }
        finally
        {
            // Stop the writer even when an assertion failed: it must not write into a disposed file system.
            Volatile.Write(ref stop, true);
            writer.Join();
        }
    }

    [Fact]
    public void The_record_has_every_field_the_specification_asks_for()
    {
        using var t = new TempStore();
        Session(t);
        using var store = AgentStore.Open(t.StorePath, new StoreOptions { ReadOnly = true });
        var r = store.Trace();
        var doc = Json(r);
        Assert.Equal("0.1.0", doc.GetProperty("version").GetString());
        Assert.True(Guid.TryParse(doc.GetProperty("id").GetString(), out var id) && id.Version == 4);
        Assert.InRange(DateTimeOffset.Parse(doc.GetProperty("timestamp").GetString()!), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal("agentfs", doc.GetProperty("tool").GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(doc.GetProperty("tool").GetProperty("version").GetString()));
        var again = store.Trace();
        Json(again);
        Assert.NotEqual(r.Id, again.Id);
        // Compact and indented forms carry the same document.
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(
            System.Text.Json.Nodes.JsonNode.Parse(r.ToJson(indented: false)), System.Text.Json.Nodes.JsonNode.Parse(r.ToJson())));
    }
}
