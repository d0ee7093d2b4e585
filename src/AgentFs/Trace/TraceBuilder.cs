using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using AgentFs.Versions;

namespace AgentFs;

/// <summary>
/// Builds the Agent Trace record of the change from one state of a store to another.
///
/// Which paths: those of the diff (<see cref="DiffSession"/>: the same state resolution and change list as
/// <see cref="AgentStore.Diff(string, string)"/>, at a cost in proportion to the changes). Directories are left out. A file the
/// diff calls deleted at one path and added at another with the same inode (moved, then changed) is a rename
/// here, as are the diff's own renames (identical content).
///
/// Which lines: each text file that changed is diffed (<see cref="LineDiff"/>, lines compared without their
/// newline) against its old content (the same path in the old state, or the old path of a rename, or nothing:
/// a new file); the lines of the new content that the diff inserts are the file's ranges. Binary files
/// (<see cref="BinaryContent"/>: git's rule), files over <see cref="MaxTextBytes"/>, deletions, symlinks and
/// special files have no lines to attribute: they are listed in metadata["dev.agentfs"].changes only.
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
    private readonly DiffSession _session;
    private readonly string _branch;
    private readonly CheckpointInfo? _fromCheckpoint, _toCheckpoint;

    public TraceBuilder(AgentStore store, DiffSession session, string branch)
    {
        _store = store;
        _session = session;
        _branch = branch;
        _fromCheckpoint = CheckpointOf(store, session.From.State);
        _toCheckpoint = CheckpointOf(store, session.To.State);
    }

    private static CheckpointInfo? CheckpointOf(AgentStore store, StoreState state) =>
        state.CheckpointId is { } id ? store.TryGetCheckpoint(id) : null;

    /// <summary>A state the change went through: a checkpoint (its view opened on demand) or the final state.</summary>
    private sealed class Step(CheckpointInfo? checkpoint, StateView? view)
    {
        public CheckpointInfo? Checkpoint { get; } = checkpoint;
        public StateView? View { get; set; } = view;
    }

    public AgentTraceRecord Build(CancellationToken cancel)
    {
        var changes = _session.Changes;
        var steps = Steps();
        var files = new List<AgentTraceFile>();
        var listed = new JsonArray();
        try
        {
            var movedFrom = MovedFiles.Find(changes);
            var movedAway = new HashSet<FileChange>(movedFrom.Values, ReferenceEqualityComparer.Instance);

            foreach (var c in changes)
            {
                cancel.ThrowIfCancellationRequested();
                if (c.IsDirectory || movedAway.Contains(c)) continue;
                movedFrom.TryGetValue(c, out var source);
                var entry = Describe(c, source, steps, out var file);
                if (entry != null) listed.Add((JsonNode)entry);
                if (file != null) files.Add(file);
            }
        }
        finally
        {
            foreach (var s in steps)
                if (s.View != null && s.View != _session.To) s.View.Dispose();
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
        var toChain = _session.To.State.Chain;
        var fromLayers = new HashSet<long>(_session.From.State.Chain.Layers);
        var between = toChain.Layers.Where(l => l > 0 && !fromLayers.Contains(l)).ToList();
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
                .OrderByDescending(cp => toChain.DepthOf(cp.Layer)).ToList();
            foreach (var cp in cps) steps.Add(new Step(cp, null));
        }
        if (_toCheckpoint is { } last && steps.Count > 0 && steps[^1].Checkpoint?.Id == last.Id) steps[^1].View = _session.To;
        else steps.Add(new Step(_toCheckpoint, _session.To));
        return steps;
    }

    /// <summary>The ids of the checkpoints between the two states (see <see cref="Steps"/>), oldest first.</summary>
    internal List<long> CheckpointIdsBetween()
    {
        var ids = new List<long>();
        foreach (var step in Steps())
            if (step.Checkpoint is { } cp) ids.Add(cp.Id);
        return ids;
    }

    private StateView ViewOf(Step step) =>
        step.View ??= new StateView(_store, _store.ResolveState(step.Checkpoint!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), new DiffStats());

    // ---- one change ---------------------------------------------------------------------------------

    /// <param name="movedFrom">The deletion of the same inode at another path, when the file was moved and changed.</param>
    private JsonObject? Describe(FileChange c, FileChange? movedFrom, List<Step> steps, out AgentTraceFile? file)
    {
        file = null;
        string path = ByteNames.Decode(c.RawPath); // invalid UTF-8 bytes as \xNN, not replaced
        var entry = new JsonObject { ["path"] = path };
        if (c.New is not { } to)
        {
            entry["status"] = "deleted";
            entry["type"] = PosixMode.TypeName(c.Old!.Mode);
            return entry;
        }
        var from = movedFrom?.Old ?? c.Old;
        byte[]? oldPath = movedFrom?.RawPath ?? c.RawOldPath;
        string status;
        if (oldPath != null) { status = "renamed"; entry["old_path"] = ByteNames.Decode(oldPath); }
        else if (from == null) status = "added";
        else if ((from.Mode & PosixMode.S_IFMT) != (to.Mode & PosixMode.S_IFMT)) status = "type_changed";
        else status = "modified";
        entry["status"] = status;
        entry["type"] = PosixMode.TypeName(to.Mode);
        if (from != null && from.Permissions != to.Permissions)
            entry["old_mode"] = PosixMode.OctalPermissions(from.Permissions);

        if (to.Type != FileType.File) return entry;
        if (to.Size > MaxTextBytes)
        {
            entry["too_large"] = true;
            return entry;
        }
        byte[]? newText = ReadFile(_session.To, to.Ino, to.Size, c.RawPath);
        if (newText == null) return null; // vanished while we read (a branch head being written)
        byte[] oldText = [];
        if (from is { Type: FileType.File } f && f.Size <= MaxTextBytes)
            oldText = ReadFile(_session.From, f.Ino, f.Size, oldPath ?? c.RawPath) ?? [];
        if (BinaryContent.IsBinary(newText))
        {
            entry["binary"] = true;
            return entry;
        }
        if (BinaryContent.IsBinary(oldText)) oldText = [];

        var (oldLines, newLines) = Lines.Split(oldText, newText, ignoreNewline: true);
        var map = LineDiff.Align(oldLines, newLines);
        var addedLines = new List<int>();
        for (int j = 0; j < map.Length; j++)
            if (map[j] < 0) addedLines.Add(j);
        entry["added_lines"] = addedLines.Count;
        if (addedLines.Count == 0) return entry;

        var owners = Attribute(c.RawPath, oldPath, oldText, newText, addedLines, steps);
        // Steps whose checkpoints name the same conversation (or none) are one conversation of the record.
        var conversations = new List<AgentTraceConversation>();
        var keyOfStep = owners.Values.Distinct().ToDictionary(step => step, step => ConversationKey(steps[step].Checkpoint));
        foreach (var group in addedLines.GroupBy(line => keyOfStep[owners[line]]).OrderBy(g => g.Min(l => owners[l])))
        {
            var lines = group.Order().ToList();
            var ranges = ToRanges(lines)
                .Select(r => new AgentTraceRange(r.Start, r.End, ContentHash(newLines, r.Start, r.End))).ToList();
            conversations.Add(ConversationFor(steps[owners[lines[0]]].Checkpoint, ranges));
        }
        file = new AgentTraceFile(path, conversations);
        return entry;
    }

    /// <summary>
    /// For each added line of the new text, the index of the step that added it: walking from the last step back,
    /// a line that the diff of a step's previous content to its content calls added belongs to that step; the
    /// others are followed to their place in the previous content. Lines still unowned at the start (the direct
    /// diff and the stepwise ones can disagree on moved lines) go to the last step.
    /// </summary>
    private Dictionary<int, int> Attribute(byte[] path, byte[]? oldPath, byte[] oldText, byte[] newText, List<int> addedLines, List<Step> steps)
    {
        var owners = new Dictionary<int, int>();
        if (steps.Count == 1)
        {
            foreach (int line in addedLines) owners[line] = 0;
            return owners;
        }
        var position = addedLines.ToDictionary(l => l, l => l); // added line of the final text -> its index in `current`
        byte[] current = newText;
        for (int s = steps.Count - 1; s >= 0 && position.Count > 0; s--)
        {
            byte[] previous;
            if (s == 0) previous = oldText;
            else
            {
                var view = ViewOf(steps[s - 1]);
                previous = ReadPath(view, path) ?? (oldPath != null ? ReadPath(view, oldPath) : null) ?? [];
                if (BinaryContent.IsBinary(previous)) previous = [];
            }
            if (previous.AsSpan().SequenceEqual(current)) continue;
            var (previousLines, currentLines) = Lines.Split(previous, current, ignoreNewline: true);
            var map = LineDiff.Align(previousLines, currentLines);
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

    /// <summary>What tells conversations apart in the record: url, contributor and related resources, and the harness's
    /// session id (meta session_id, which agentfs hook writes): two sessions are two conversations even without urls.</summary>
    private static string ConversationKey(CheckpointInfo? cp)
    {
        var c = ConversationFor(cp, []);
        string? session = cp?.Meta.TryGetValue("session_id", out var sid) == true ? sid : null;
        return $"{c.Url}\n{c.Contributor?.Type}\n{c.Contributor?.ModelId}\n{string.Join("\n", c.Related?.Select(r => r.Type + " " + r.Url) ?? [])}\n{session}";
    }

    internal static readonly string[] ConversationUrlKeys = ["conversation_url", "conversation", "url"];

    private static bool IsAbsoluteUri(string s) => Uri.TryCreate(s, UriKind.Absolute, out var u) && u.Scheme.Length > 0 && !s.Contains(' ');

    /// <summary>sha256 of the range's lines, each ended by '\n' (a '\r' before it dropped: LF-normalized).</summary>
    private static string ContentHash(Lines lines, int start, int end)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int i = start - 1; i < end; i++)
        {
            var line = lines[i];
            if (line.Length > 0 && line[^1] == (byte)'\n') line = line[..^1];
            if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
            sha.AppendData(line);
            sha.AppendData("\n"u8);
        }
        return "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Ascending 0-based line indexes as 1-based inclusive ranges.</summary>
    internal static List<(int Start, int End)> ToRanges(IReadOnlyList<int> lines)
    {
        var ranges = new List<(int, int)>();
        for (int i = 0; i < lines.Count;)
        {
            int j = i;
            while (j + 1 < lines.Count && lines[j + 1] == lines[j] + 1) j++;
            ranges.Add((lines[i] + 1, lines[j] + 1));
            i = j + 1;
        }
        return ranges;
    }

    // ---- reading -------------------------------------------------------------------------------------

    /// <summary>A regular file's content by inode; null when it is gone (a branch head being written).</summary>
    private static byte[]? ReadFile(StateView view, ulong ino, long size, byte[] path)
    {
        try { return view.ReadAll(ino, size, path); }
        catch (AgentFsException e) when (e.Errno is Errno.ENOENT or Errno.ESTALE) { return null; }
    }

    /// <summary>The content of the regular file at a path of a state, or null (absent, not a file, too large).</summary>
    private static byte[]? ReadPath(StateView view, byte[] path) =>
        view.Resolve(path) is { Attributes: { IsRegular: true, Size: <= MaxTextBytes } a } node ? ReadFile(view, node.Ino, a.Size, path) : null;

    // ---- metadata -----------------------------------------------------------------------------------

    private JsonObject Metadata(List<Step> steps, JsonArray changes)
    {
        var checkpoints = new JsonArray();
        foreach (var s in steps)
            if (s.Checkpoint is { } cp) checkpoints.Add((JsonNode)CheckpointJson(cp));
        var ours = new JsonObject
        {
            ["store"] = _store.Path,
            ["store_id"] = _store.StoreId,
            ["base"] = _store.BaseDirectoryPath,
            ["branch"] = _branch,
            ["from"] = StateJson(_session.From.State, _fromCheckpoint),
            ["to"] = StateJson(_session.To.State, _toCheckpoint),
            ["checkpoints"] = checkpoints,
            ["changes"] = changes,
        };
        return new JsonObject { [MetadataKey] = ours };
    }

    private static JsonObject StateJson(StoreState s, CheckpointInfo? checkpoint)
    {
        var o = new JsonObject { ["ref"] = s.Ref, ["kind"] = s.Kind.ToString().ToLowerInvariant() };
        if (s.Kind == StateKind.Branch) o["branch"] = s.Branch;
        if (checkpoint is { } cp)
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
