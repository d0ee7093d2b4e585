using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace AgentFs;

/// <summary>
/// Builds the Agent Trace record of the change from one state of a store to another.
///
/// Which lines: each text file that differs is diffed (<see cref="TraceLineDiff"/>) against its old content (the same
/// path in the old state, else the path the same inode had there: a rename, else nothing: a new file); the
/// lines of the new content that the diff adds are the file's ranges. Binary files (a NUL in the first 8000
/// bytes, like git), files over <see cref="MaxTextBytes"/>, deletions, symlinks and special files have no
/// lines to attribute: they are listed in metadata["dev.agentfs"].changes only.
///
/// Who: the checkpoints between the two states (those in the new state's history and not in the old one's),
/// oldest first, then the branch head when the new state is one. Each added line is attributed to the step
/// that introduced it, found by diffing the file step by step from the newest back (like a blame), and each
/// step is one conversation of the record, with the url, model and contributor its checkpoint's metadata
/// names (<see cref="ConversationFor"/>). Changes made after the last checkpoint of a branch head form a
/// conversation without url.
/// </summary>
internal sealed class TraceBuilder
{
    public const long MaxTextBytes = 32L << 20;
    public const string MetadataKey = "dev.agentfs";

    private readonly AgentStore _store;
    private readonly TraceState _from, _to;
    private readonly string _branch;

    public TraceBuilder(AgentStore store, TraceState from, TraceState to, string branch)
    {
        _store = store;
        _from = from;
        _to = to;
        _branch = branch;
    }

    /// <summary>A state the change went through: a checkpoint (its view opened on demand) or the final state.</summary>
    private sealed class Step(CheckpointInfo? checkpoint, TraceState? state)
    {
        public CheckpointInfo? Checkpoint { get; } = checkpoint;
        public TraceState? State { get; set; } = state;
    }

    public AgentTraceRecord Build(CancellationToken cancel)
    {
        var changes = TreeComparer.Compare(_store, _from, _to, cancel);
        var steps = Steps();
        var files = new List<AgentTraceFile>();
        var listed = new JsonArray();
        try
        {
            var renamedFrom = new Dictionary<ulong, TreeChange>();
            foreach (var c in changes)
                if (c.To == null && c.From is { } f && PosixMode.IsRegular(f.Mode)) renamedFrom.TryAdd(f.Ino, c);
            var renames = new Dictionary<TreeChange, TreeChange>(ReferenceEqualityComparer.Instance);
            foreach (var c in changes)
                if (c.From == null && c.To is { } t && PosixMode.IsRegular(t.Mode) && renamedFrom.Remove(t.Ino, out var old))
                    renames[c] = old;
            var renamedAway = new HashSet<TreeChange>(renames.Values, ReferenceEqualityComparer.Instance);

            foreach (var c in changes)
            {
                cancel.ThrowIfCancellationRequested();
                if (renamedAway.Contains(c)) continue;
                renames.TryGetValue(c, out var source);
                var entry = Describe(c, source, steps, out var file);
                if (entry != null) listed.Add(entry);
                if (file != null) files.Add(file);
            }
        }
        finally
        {
            foreach (var s in steps)
                if (s.State != null && s.State != _to) s.State.Dispose();
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return new AgentTraceRecord(AgentTraceRecord.SpecVersion, Guid.NewGuid(), DateTimeOffset.UtcNow,
            new AgentTraceTool("agentfs", ToolVersion), files, null, Metadata(steps, listed));
    }

    private static string ToolVersion =>
        typeof(AgentStore).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(AgentStore).Assembly.GetName().Version?.ToString() ?? "0";

    /// <summary>The checkpoints in the new state's history that are not in the old state's, oldest first, then the
    /// new state itself unless it is the last of them.</summary>
    private List<Step> Steps()
    {
        var fromLayers = new HashSet<long>(_from.Chain.Layers);
        var between = _to.Chain.Layers.Where(l => l > 0 && !fromLayers.Contains(l)).ToList();
        var steps = new List<Step>();
        if (between.Count > 0)
        {
            var ids = _store.Read(c =>
            {
                var list = new List<long>();
                using var cmd = c.CreateCommand();
                cmd.CommandText = $"SELECT id FROM checkpoints WHERE layer IN ({string.Join(',', between)})";
                using var rd = cmd.ExecuteReader();
                while (rd.Read()) list.Add(rd.GetInt64(0));
                return list;
            });
            var cps = ids.Select(_store.TryGetCheckpoint).OfType<CheckpointInfo>()
                .OrderByDescending(cp => _to.Chain.DepthOf(cp.Layer)).ToList();
            foreach (var cp in cps) steps.Add(new Step(cp, null));
        }
        if (_to.Checkpoint is { } last && steps.Count > 0 && steps[^1].Checkpoint?.Id == last.Id) steps[^1].State = _to;
        else steps.Add(new Step(_to.Checkpoint, _to));
        return steps;
    }

    private TraceState StateOf(Step step) => step.State ??= TraceState.Open(_store, step.Checkpoint!.Id.ToString());

    // ---- one change ---------------------------------------------------------------------------------

    private JsonObject? Describe(TreeChange c, TreeChange? renamedFrom, List<Step> steps, out AgentTraceFile? file)
    {
        file = null;
        var entry = new JsonObject { ["path"] = c.Path };
        string status;
        if (c.To is not { } to)
        {
            entry["status"] = "deleted";
            entry["type"] = TypeName(c.From!.Value.Mode);
            return entry;
        }
        var from = renamedFrom?.From ?? c.From;
        if (renamedFrom != null) { status = "renamed"; entry["old_path"] = renamedFrom.Path; }
        else if (from == null) status = "added";
        else if ((from.Value.Mode & PosixMode.S_IFMT) != (to.Mode & PosixMode.S_IFMT)) status = "type_changed";
        else status = "modified";
        entry["status"] = status;
        entry["type"] = TypeName(to.Mode);
        if (from is { } fm && (fm.Mode & PosixMode.PermissionMask) != (to.Mode & PosixMode.PermissionMask))
            entry["old_mode"] = Convert.ToString(fm.Mode & PosixMode.PermissionMask, 8).PadLeft(4, '0');

        if (!PosixMode.IsRegular(to.Mode))
        {
            if (status == "modified" && !entry.ContainsKey("old_mode") && SameNonRegular(c, from!.Value, to)) return null;
            return entry;
        }
        if (to.Size > MaxTextBytes)
        {
            entry["too_large"] = true;
            return entry;
        }
        byte[]? newText = ReadFile(_to.View, c.RawPath);
        if (newText == null) return null; // vanished while we read (a branch head being written)
        byte[] oldText = [];
        if (from is { } f && PosixMode.IsRegular(f.Mode) && f.Size <= MaxTextBytes)
            oldText = ReadFile(_from.View, (renamedFrom ?? c).RawPath) ?? [];
        if (status == "modified" && !entry.ContainsKey("old_mode") && oldText.AsSpan().SequenceEqual(newText)) return null;
        if (IsBinary(newText))
        {
            entry["binary"] = true;
            return entry;
        }
        if (IsBinary(oldText)) oldText = [];

        var newLines = TraceLineDiff.SplitLines(newText);
        var added = TraceLineDiff.Align(oldText, TraceLineDiff.SplitLines(oldText), newText, newLines);
        var addedLines = new List<int>();
        for (int j = 0; j < added.Length; j++)
            if (added[j] < 0) addedLines.Add(j);
        entry["added_lines"] = addedLines.Count;
        if (addedLines.Count == 0) return entry;

        var owners = Attribute(c, renamedFrom, oldText, newText, newLines, addedLines, steps);
        // Steps whose checkpoints name the same conversation (or none) are one conversation of the record.
        var conversations = new List<AgentTraceConversation>();
        var keyOfStep = owners.Values.Distinct().ToDictionary(step => step, step => ConversationKey(steps[step].Checkpoint));
        foreach (var group in addedLines.GroupBy(line => keyOfStep[owners[line]]).OrderBy(g => g.Min(l => owners[l])))
        {
            var lines = group.Order().ToList();
            var ranges = TraceLineDiff.ToRanges(lines)
                .Select(r => new AgentTraceRange(r.Start, r.End, ContentHash(newText, newLines, r.Start, r.End))).ToList();
            conversations.Add(ConversationFor(steps[owners[lines[0]]].Checkpoint, ranges));
        }
        file = new AgentTraceFile(c.Path, conversations);
        return entry;
    }

    private bool SameNonRegular(TreeChange c, InodeAttributes from, InodeAttributes to)
    {
        if (PosixMode.IsSymlink(to.Mode))
        {
            var a = ReadLink(_from.View, c.RawPath);
            var b = ReadLink(_to.View, c.RawPath);
            return a != null && b != null && a.AsSpan().SequenceEqual(b);
        }
        return from.Rdev == to.Rdev;
    }

    /// <summary>
    /// For each added line of the new text, the index of the step that added it: walking from the last step back,
    /// a line that the diff of a step's previous content to its content calls added belongs to that step; the
    /// others are followed to their place in the previous content. Lines still unowned at the start (the direct
    /// diff and the stepwise ones can disagree on moved lines) go to the last step.
    /// </summary>
    private Dictionary<int, int> Attribute(TreeChange c, TreeChange? renamedFrom, byte[] oldText, byte[] newText,
        TraceLineDiff.Line[] newLines, List<int> addedLines, List<Step> steps)
    {
        var owners = new Dictionary<int, int>();
        if (steps.Count == 1)
        {
            foreach (int line in addedLines) owners[line] = 0;
            return owners;
        }
        var position = addedLines.ToDictionary(l => l, l => l); // added line of the final text -> its index in `current`
        byte[] current = newText;
        var currentLines = newLines;
        for (int s = steps.Count - 1; s >= 0 && position.Count > 0; s--)
        {
            byte[] previous;
            if (s == 0) previous = oldText;
            else
            {
                var view = StateOf(steps[s - 1]).View;
                previous = ReadFile(view, c.RawPath) ?? (renamedFrom != null ? ReadFile(view, renamedFrom.RawPath) : null) ?? [];
                if (previous.Length > MaxTextBytes || IsBinary(previous)) previous = [];
            }
            if (previous.AsSpan().SequenceEqual(current)) continue;
            var previousLines = TraceLineDiff.SplitLines(previous);
            var map = TraceLineDiff.Align(previous, previousLines, current, currentLines);
            foreach (var (line, at) in position.ToList())
            {
                if (map[at] < 0)
                {
                    owners[line] = s;
                    position.Remove(line);
                }
                else position[line] = map[at];
            }
            current = previous;
            currentLines = previousLines;
        }
        foreach (int line in position.Keys) owners[line] = steps.Count - 1;
        return owners;
    }

    /// <summary>
    /// The conversation of a step, from its checkpoint's metadata: url from conversation_url, conversation or url
    /// (an absolute URI); contributor type from contributor (human, ai, mixed, unknown; default ai: a session's
    /// changes are an agent's); model_id from model_id or model; related from every other key ending in _url
    /// whose value is an absolute URI (type: the key without _url).
    /// </summary>
    internal static AgentTraceConversation ConversationFor(CheckpointInfo? cp, IReadOnlyList<AgentTraceRange> ranges)
    {
        var meta = cp?.Meta ?? new Dictionary<string, string>();
        string? url = null, urlKey = null;
        foreach (var key in ConversationUrlKeys)
            if (meta.TryGetValue(key, out var v) && IsAbsoluteUri(v)) { url = v; urlKey = key; break; }
        string type = meta.TryGetValue("contributor", out var ct) && ct is "human" or "ai" or "mixed" or "unknown" ? ct : "ai";
        string? model = (meta.TryGetValue("model_id", out var m) ? m : meta.TryGetValue("model", out m) ? m : null) is { Length: > 0 and <= 250 } mm ? mm : null;
        var related = meta
            .Where(kv => kv.Key != urlKey && kv.Key.EndsWith("_url", StringComparison.Ordinal) && kv.Key.Length > 4 && IsAbsoluteUri(kv.Value))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new AgentTraceRelated(kv.Key[..^4], kv.Value)).ToList();
        return new AgentTraceConversation(url, new AgentTraceContributor(type, model), ranges, related.Count > 0 ? related : null);
    }

    /// <summary>What tells conversations apart in the record: url, contributor and related resources.</summary>
    private static string ConversationKey(CheckpointInfo? cp)
    {
        var c = ConversationFor(cp, []);
        return $"{c.Url}\n{c.Contributor?.Type}\n{c.Contributor?.ModelId}\n{string.Join("\n", c.Related?.Select(r => r.Type + " " + r.Url) ?? [])}";
    }

    internal static readonly string[] ConversationUrlKeys = ["conversation_url", "conversation", "url"];

    private static bool IsAbsoluteUri(string s) => Uri.TryCreate(s, UriKind.Absolute, out var u) && u.Scheme.Length > 0 && !s.Contains(' ');

    /// <summary>sha256 of the range's lines, each ended by '\n' (a '\r' before it dropped: LF-normalized).</summary>
    private static string ContentHash(byte[] text, TraceLineDiff.Line[] lines, int start, int end)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int i = start - 1; i < end; i++)
        {
            var line = text.AsSpan(lines[i].Start, lines[i].Length);
            if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
            sha.AppendData(line);
            sha.AppendData("\n"u8);
        }
        return "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    internal static bool IsBinary(ReadOnlySpan<byte> text) => text[..Math.Min(text.Length, 8000)].IndexOf((byte)0) >= 0;

    private static string TypeName(uint mode) => (mode & PosixMode.S_IFMT) switch
    {
        PosixMode.S_IFREG => "file", PosixMode.S_IFDIR => "directory", PosixMode.S_IFLNK => "symlink", PosixMode.S_IFIFO => "fifo",
        PosixMode.S_IFSOCK => "socket", PosixMode.S_IFCHR => "char_device", PosixMode.S_IFBLK => "block_device", _ => "unknown",
    };

    // ---- reading by raw path ------------------------------------------------------------------------

    private static byte[]? ReadFile(AgentFileSystem fs, byte[][] path) => WithInode(fs, path, (ino, a) =>
    {
        if (!a.IsRegular || a.Size > MaxTextBytes) return null;
        var data = new byte[a.Size];
        int done = 0;
        while (done < data.Length)
        {
            int n = fs.Read(ino, done, data.AsSpan(done));
            if (n == 0) break;
            done += n;
        }
        return done == data.Length ? data : data[..done];
    });

    private static byte[]? ReadLink(AgentFileSystem fs, byte[][] path) =>
        WithInode(fs, path, (ino, a) => a.IsSymlink ? fs.ReadLink(ino) : null);

    /// <summary>Looks a path up name by name (never following symlinks) and runs read on its inode; null when absent.</summary>
    private static T? WithInode<T>(AgentFileSystem fs, byte[][] path, Func<ulong, InodeAttributes, T?> read) where T : class
    {
        var looked = new List<ulong>(path.Length);
        try
        {
            ulong dir = InodeNumbers.Root;
            InodeAttributes a = default;
            for (int i = 0; i < path.Length; i++)
            {
                a = fs.Lookup(dir, path[i]);
                looked.Add(a.Ino);
                if (i < path.Length - 1 && !a.IsDirectory) return null;
                dir = a.Ino;
            }
            return read(a.Ino, a);
        }
        catch (AgentFsException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR or Errno.ESTALE) { return null; }
        finally
        {
            foreach (var ino in looked) fs.Forget(ino, 1);
        }
    }

    // ---- metadata -----------------------------------------------------------------------------------

    private JsonObject Metadata(List<Step> steps, JsonArray changes)
    {
        var checkpoints = new JsonArray();
        foreach (var s in steps)
            if (s.Checkpoint is { } cp) checkpoints.Add(CheckpointJson(cp));
        var ours = new JsonObject
        {
            ["store"] = _store.Path,
            ["store_id"] = _store.StoreId,
            ["base"] = _store.BaseDirectoryPath,
            ["branch"] = _branch,
            ["from"] = StateJson(_from),
            ["to"] = StateJson(_to),
            ["checkpoints"] = checkpoints,
            ["changes"] = changes,
        };
        return new JsonObject { [MetadataKey] = ours };
    }

    private static JsonObject StateJson(TraceState s)
    {
        var o = new JsonObject { ["ref"] = s.Ref, ["kind"] = s.Kind };
        if (s.Branch != null) o["branch"] = s.Branch.Name;
        if (s.Checkpoint is { } cp)
        {
            o["checkpoint"] = cp.Id;
            o["message"] = cp.Message;
            var meta = new JsonObject();
            foreach (var (k, v) in cp.Meta.OrderBy(kv => kv.Key, StringComparer.Ordinal)) meta[k] = v;
            o["meta"] = meta;
        }
        return o;
    }

    private static JsonObject CheckpointJson(CheckpointInfo cp)
    {
        var meta = new JsonObject();
        foreach (var (k, v) in cp.Meta.OrderBy(kv => kv.Key, StringComparer.Ordinal)) meta[k] = v;
        return new JsonObject
        {
            ["id"] = cp.Id,
            ["branch"] = cp.Branch,
            ["message"] = cp.Message,
            ["created"] = cp.Created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["meta"] = meta,
        };
    }
}
