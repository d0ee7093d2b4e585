using System.Text;

namespace AgentFs.Cli.Output;

/// <summary>
/// The history of a store drawn as a tree, newest at the top, the way <c>git log --graph</c> draws commits: what
/// <c>agentfs log --graph</c> prints and <c>agentfs report</c> puts at the top of its page.
///
/// The nodes are the base (the root, <c>o</c>), every checkpoint (<c>*</c>) and every branch's head (<c>@</c>, its
/// state now), each under the checkpoint it grew from (<see cref="StoreHistory"/>). Each subtree is drawn as one
/// block above its root, so lanes never cross: a node's first child (the one that goes on along the node's own
/// branch) goes on in the node's lane, each other child opens a lane to the right, which joins back with <c>|/</c>
/// right below that child. Other children come newest first (those that lead to a branch head before abandoned
/// ones, left behind by a rollback). Every node but the base says what changed since its parent, counted by the
/// library's diff --stat (files git shows, lines added and removed).
/// </summary>
internal sealed class LogGraph
{
    private LogGraph(List<GraphRow> rows) => Rows = rows;

    /// <summary>Top to bottom: node rows and the rows where a lane joins back.</summary>
    public IReadOnlyList<GraphRow> Rows { get; }

    /// <summary>
    /// The graph of the whole store, or with <paramref name="onlyBranch"/> the history of that one branch (its head and
    /// the checkpoints below it). Each node's change summary costs one diff --stat, in proportion to that change.
    /// </summary>
    public static LogGraph Build(AgentStore store, string? onlyBranch)
    {
        var history = store.ReadHistory();
        var root = new GraphNode(GraphNodeKind.Base, null, null, "main");
        var byId = new Dictionary<long, GraphNode>();
        foreach (var cp in history.Checkpoints) byId[cp.Id] = new GraphNode(GraphNodeKind.Checkpoint, cp, null, cp.Branch);
        foreach (var cp in history.Checkpoints) Attach(byId[cp.Id], history.ParentOf(cp.Id) is long p ? byId[p] : root);
        var heads = new List<GraphNode>();
        foreach (var b in history.Branches)
        {
            var head = new GraphNode(GraphNodeKind.Head, null, b, b.Name);
            Attach(head, history.HeadParentOf(b.Name) is long p ? byId[p] : root);
            heads.Add(head);
        }
        if (onlyBranch != null)
        {
            var keep = new HashSet<GraphNode>();
            for (GraphNode? n = heads.Single(h => h.BranchName == onlyBranch); n != null; n = n.Parent) keep.Add(n);
            foreach (var n in keep) n.Children.RemoveAll(c => !keep.Contains(c));
            heads.RemoveAll(h => !keep.Contains(h));
        }

        // The child that goes on along a node's own branch: the one on the way to that branch's head.
        foreach (var head in heads)
        {
            var child = head;
            for (var n = head.Parent; n != null; child = n, n = n.Parent)
                if (n.BranchName == head.BranchName && n.Trunk == null) n.Trunk = child;
        }
        var order = Order(root);
        foreach (var n in order)
            if (n.Kind != GraphNodeKind.Base) n.Changes = Summarize(store, n);
        return new LogGraph(Lanes(order));
    }

    private static void Attach(GraphNode child, GraphNode parent)
    {
        child.Parent = parent;
        parent.Children.Add(child);
    }

    /// <summary>Top to bottom: each node after the blocks of its children (its trunk's first, then the others newest first).</summary>
    private static List<GraphNode> Order(GraphNode root)
    {
        // Newest time in each subtree, and whether a head is in it, for ordering siblings: children before parents.
        var post = new List<GraphNode>();
        var stack = new Stack<(GraphNode Node, bool Expanded)>();
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (n, expanded) = stack.Pop();
            if (expanded) { post.Add(n); continue; }
            stack.Push((n, true));
            foreach (var c in n.Children) stack.Push((c, false));
        }
        foreach (var n in post)
        {
            n.Newest = n.Checkpoint?.Id ?? 0;
            n.HasHead = n.Kind == GraphNodeKind.Head;
            foreach (var c in n.Children)
            {
                n.Newest = Math.Max(n.Newest, c.Newest);
                n.HasHead |= c.HasHead;
            }
        }

        var order = new List<GraphNode>();
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (n, expanded) = stack.Pop();
            if (expanded) { order.Add(n); continue; }
            stack.Push((n, true));
            var children = n.Children
                .OrderBy(c => c == n.Trunk ? 0 : 1)
                .ThenByDescending(c => c.HasHead)
                .ThenByDescending(c => c.Newest)
                .ThenBy(c => c.BranchName, StringComparer.Ordinal)
                .ToList();
            for (int i = children.Count - 1; i >= 0; i--) stack.Push((children[i], false));
        }
        return order;
    }

    /// <summary>Assigns lanes: a node takes the lane that waits for it (or opens one on the right); its lane then
    /// waits for its parent, and joins the lane on its left when that one already does.</summary>
    private static List<GraphRow> Lanes(List<GraphNode> order)
    {
        var rows = new List<GraphRow>();
        var lanes = new List<(GraphNode Awaits, int Color)>();
        int nextColor = 0;
        foreach (var n in order)
        {
            int col = lanes.FindIndex(l => l.Awaits == n);
            if (col < 0)
            {
                lanes.Add((n, nextColor++));
                col = lanes.Count - 1;
            }
            var cells = new List<GraphCell>();
            for (int i = 0; i < lanes.Count; i++)
            {
                if (i > 0) cells.Add(new GraphCell(' ', -1));
                cells.Add(new GraphCell(i == col ? Marker(n) : '|', lanes[i].Color));
            }
            rows.Add(new GraphRow(cells, n));
            if (n.Parent == null)
            {
                lanes.RemoveAt(col);
                continue;
            }
            lanes[col] = (n.Parent, lanes[col].Color);
            int join = lanes.FindIndex(l => l.Awaits == n.Parent);
            if (join >= col) continue;
            // Lanes only ever join the lane just left of them (a subtree's block holds all lanes right of its root's).
            var joinCells = new List<GraphCell>();
            for (int i = 0; i < col; i++)
            {
                if (i > 0) joinCells.Add(new GraphCell(' ', -1));
                joinCells.Add(new GraphCell('|', lanes[i].Color));
            }
            joinCells.Add(new GraphCell('/', lanes[col].Color));
            for (int i = col + 1; i < lanes.Count; i++)
            {
                joinCells.Add(new GraphCell(' ', -1));
                joinCells.Add(new GraphCell('/', lanes[i].Color));
            }
            rows.Add(new GraphRow(joinCells, null));
            lanes.RemoveAt(col);
        }
        return rows;
    }

    private static char Marker(GraphNode n) => n.Kind switch { GraphNodeKind.Base => 'o', GraphNodeKind.Head => '@', _ => '*' };

    private static ChangeSummary Summarize(AgentStore store, GraphNode n)
    {
        string from = n.Parent!.Checkpoint?.Id.ToString() ?? "base";
        string to = n.Checkpoint?.Id.ToString() ?? n.Branch!.Name;
        var stats = store.DiffStat(from, to, new DiffOptions());
        int files = 0, other = 0;
        long insertions = 0, deletions = 0;
        foreach (var s in stats)
        {
            if (!s.ShownByGit) { other++; continue; }
            files++;
            if (s.IsBinary) continue;
            insertions += s.Insertions;
            deletions += s.Deletions;
        }
        return new ChangeSummary(files, insertions, deletions, other);
    }

    /// <summary>The whole graph as plain text, one row per line: lanes, a space, the node's text.</summary>
    public string ToText(string basePath)
    {
        var sb = new StringBuilder();
        foreach (var row in Rows)
        {
            foreach (var c in row.Cells) sb.Append(c.Char);
            if (row.Node != null) sb.Append(' ').Append(NodeText(row.Node, basePath));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>A node's line after the lanes: <c>ID TIME BRANCH: MESSAGE (SUMMARY)</c> for a checkpoint,
    /// <c>BRANCH: head (SUMMARY)</c> for a branch, <c>base: PATH</c> for the base.</summary>
    public static string NodeText(GraphNode n, string basePath) => n.Kind switch
    {
        GraphNodeKind.Base => "base: " + Formats.Cell(basePath),
        GraphNodeKind.Head => $"{n.BranchName}: head ({n.Changes!.Text})",
        _ => $"{n.Checkpoint!.Id} {Formats.ShortTime(n.Checkpoint.Created)} {n.BranchName}"
            + (string.IsNullOrEmpty(n.Checkpoint.Message) ? "" : ": " + Formats.Cell(n.Checkpoint.Message))
            + $" ({n.Changes!.Text})",
    };
}

/// <summary>What a node of <see cref="LogGraph"/> is.</summary>
internal enum GraphNodeKind { Base, Checkpoint, Head }

/// <summary>A node of <see cref="LogGraph"/>: the base, a checkpoint or a branch's head.</summary>
internal sealed class GraphNode(GraphNodeKind kind, CheckpointInfo? checkpoint, BranchInfo? branch, string branchName)
{
    public GraphNodeKind Kind { get; } = kind;
    public CheckpointInfo? Checkpoint { get; } = checkpoint;
    public BranchInfo? Branch { get; } = branch;

    /// <summary>The branch the node is on: the checkpoint's, the head's; main for the base.</summary>
    public string BranchName { get; } = branchName;

    public GraphNode? Parent { get; set; }
    public List<GraphNode> Children { get; } = [];

    /// <summary>What changed from the parent to this node (null for the base).</summary>
    public ChangeSummary? Changes { get; set; }

    internal GraphNode? Trunk { get; set; }
    internal long Newest { get; set; }
    internal bool HasHead { get; set; }
}

/// <summary>One row of <see cref="LogGraph"/>: its lane characters, and the node it shows (null for a row where a lane joins).</summary>
internal sealed record GraphRow(IReadOnlyList<GraphCell> Cells, GraphNode? Node);

/// <summary>One character of the lanes, with the colour of its lane (a counter, -1 for the spaces between).</summary>
internal readonly record struct GraphCell(char Char, int Color);

/// <summary>What changed between a node and its parent: files git shows (binary ones included), lines added and
/// removed (text files), and other changes git does not show (directories, special files, other mode bits).</summary>
internal sealed record ChangeSummary(int Files, long Insertions, long Deletions, int Other)
{
    public string Text
    {
        get
        {
            if (Files == 0 && Other == 0) return "no changes";
            var parts = new List<string>();
            if (Files > 0) parts.Add($"{Files} {(Files == 1 ? "file" : "files")}, +{Insertions} -{Deletions}");
            if (Other > 0) parts.Add($"{Other} other {(Other == 1 ? "change" : "changes")}");
            return string.Join(", ", parts);
        }
    }
}
