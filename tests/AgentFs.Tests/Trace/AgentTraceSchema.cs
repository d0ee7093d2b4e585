using System.Text.Json;
using System.Text.RegularExpressions;
using Json.Schema;

namespace AgentFs.Tests.Trace;

/// <summary>
/// Checks Agent Trace records, for every test that makes one. Two layers: the specification's own JSON Schema
/// (AgentTraceSchema.json, copied unchanged from the specification text, version 0.1.0: see
/// AgentTraceSchema.NOTICE.md), evaluated by JsonSchema.Net with formats (uuid, date-time, uri) enforced; then
/// the stricter rules of the schema the specification's site generates, written out here by hand: no fields
/// beyond those the schema names (every object but metadata is closed there), ids of a known UUID version,
/// timestamps in UTC ending in Z, line numbers within 2^53 - 1.
/// </summary>
internal static partial class AgentTraceSchema
{
    private static readonly JsonSchema Specification = LoadSpecification();

    private static JsonSchema LoadSpecification()
    {
        using var stream = typeof(AgentTraceSchema).Assembly.GetManifestResourceStream("AgentTraceSchema.json")
            ?? throw new InvalidOperationException("AgentTraceSchema.json is not embedded in the test assembly");
        using var reader = new StreamReader(stream);
        return JsonSchema.FromText(reader.ReadToEnd());
    }

    /// <summary>Fails the test, naming each problem and showing the record, unless the record passes both layers; returns its JSON.</summary>
    public static JsonElement Check(AgentTraceRecord record) => Check(record.ToJson());

    /// <inheritdoc cref="Check(AgentTraceRecord)"/>
    public static JsonElement Check(string json)
    {
        var doc = JsonDocument.Parse(json).RootElement;
        var errors = AgainstSpecification(doc);
        errors.AddRange(Validate(doc));
        Assert.True(errors.Count == 0, string.Join("\n", errors) + "\n" + json);
        return doc;
    }

    /// <summary>What the specification's JSON Schema finds wrong, one line each (empty: valid).</summary>
    public static List<string> AgainstSpecification(JsonElement record)
    {
        var result = Specification.Evaluate(record, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        var errors = new List<string>();
        if (result.IsValid) return errors;
        foreach (var node in (IEnumerable<EvaluationResults>)[result, .. result.Details ?? []])
            foreach (var (keyword, message) in node.Errors ?? new Dictionary<string, string>())
                errors.Add($"schema: {node.InstanceLocation} ({node.EvaluationPath}): {keyword}: {message}");
        if (errors.Count == 0) errors.Add("schema: invalid, without details");
        return errors;
    }

    [GeneratedRegex(@"^[0-9]+\.[0-9]+\.[0-9]+$")] private static partial Regex Version();
    [GeneratedRegex(@"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$")] private static partial Regex Uuid();
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$")] private static partial Regex Timestamp();

    private static readonly string[] ContributorTypes = ["human", "ai", "mixed", "unknown"];
    private static readonly string[] VcsTypes = ["git", "jj", "hg", "svn"];

    /// <summary>The hand-written, stricter rules (see the class summary); returns what is wrong, one line each.</summary>
    public static List<string> Validate(JsonElement record)
    {
        var errors = new List<string>();
        Object(record, "$", errors, required: ["version", "id", "timestamp", "files"], allowed: ["version", "id", "timestamp", "vcs", "tool", "files", "metadata"]);
        if (record.ValueKind != JsonValueKind.Object) return errors;
        String(record, "version", "$", errors, Version());
        String(record, "id", "$", errors, Uuid());
        String(record, "timestamp", "$", errors, Timestamp());
        if (record.TryGetProperty("timestamp", out var ts) && ts.ValueKind == JsonValueKind.String && !DateTimeOffset.TryParse(ts.GetString(), out _))
            errors.Add("$.timestamp: not a date-time");
        if (record.TryGetProperty("vcs", out var vcs))
        {
            Object(vcs, "$.vcs", errors, required: ["type", "revision"], allowed: ["type", "revision"]);
            Enum(vcs, "type", "$.vcs", errors, VcsTypes);
            String(vcs, "revision", "$.vcs", errors);
        }
        if (record.TryGetProperty("tool", out var tool))
        {
            Object(tool, "$.tool", errors, required: ["name", "version"], allowed: ["name", "version"]);
            String(tool, "name", "$.tool", errors);
            String(tool, "version", "$.tool", errors);
        }
        if (record.TryGetProperty("metadata", out var md) && md.ValueKind != JsonValueKind.Object) errors.Add("$.metadata: not an object");
        if (!record.TryGetProperty("files", out var files) || files.ValueKind != JsonValueKind.Array)
        {
            errors.Add("$.files: not an array");
            return errors;
        }
        int i = 0;
        foreach (var f in files.EnumerateArray())
        {
            string at = $"$.files[{i++}]";
            Object(f, at, errors, required: ["path", "conversations"], allowed: ["path", "conversations"]);
            String(f, "path", at, errors);
            if (!f.TryGetProperty("conversations", out var convs) || convs.ValueKind != JsonValueKind.Array) { errors.Add($"{at}.conversations: not an array"); continue; }
            int j = 0;
            foreach (var c in convs.EnumerateArray())
            {
                string cat = $"{at}.conversations[{j++}]";
                Object(c, cat, errors, required: ["ranges"], allowed: ["url", "contributor", "ranges", "related"]);
                if (c.TryGetProperty("url", out _)) Uri(c, "url", cat, errors);
                if (c.TryGetProperty("contributor", out var who)) Contributor(who, cat + ".contributor", errors);
                if (!c.TryGetProperty("ranges", out var ranges) || ranges.ValueKind != JsonValueKind.Array) { errors.Add($"{cat}.ranges: not an array"); continue; }
                int k = 0;
                foreach (var r in ranges.EnumerateArray())
                {
                    string rat = $"{cat}.ranges[{k++}]";
                    Object(r, rat, errors, required: ["start_line", "end_line"], allowed: ["start_line", "end_line", "content_hash", "contributor"]);
                    foreach (var n in new[] { "start_line", "end_line" })
                        if (!r.TryGetProperty(n, out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long x) || x < 1 || x > 9007199254740991)
                            errors.Add($"{rat}.{n}: not an integer from 1");
                    if (r.TryGetProperty("content_hash", out _)) String(r, "content_hash", rat, errors);
                    if (r.TryGetProperty("contributor", out var rw)) Contributor(rw, rat + ".contributor", errors);
                }
                if (c.TryGetProperty("related", out var related))
                {
                    if (related.ValueKind != JsonValueKind.Array) { errors.Add($"{cat}.related: not an array"); continue; }
                    int m = 0;
                    foreach (var rel in related.EnumerateArray())
                    {
                        string relat = $"{cat}.related[{m++}]";
                        Object(rel, relat, errors, required: ["type", "url"], allowed: ["type", "url"]);
                        String(rel, "type", relat, errors);
                        Uri(rel, "url", relat, errors);
                    }
                }
            }
        }
        return errors;
    }

    private static void Contributor(JsonElement who, string at, List<string> errors)
    {
        Object(who, at, errors, required: ["type"], allowed: ["type", "model_id"]);
        Enum(who, "type", at, errors, ContributorTypes);
        if (who.TryGetProperty("model_id", out var m) && (m.ValueKind != JsonValueKind.String || m.GetString()!.Length > 250))
            errors.Add($"{at}.model_id: not a string of at most 250 characters");
    }

    private static void Object(JsonElement e, string at, List<string> errors, string[] required, string[] allowed)
    {
        if (e.ValueKind != JsonValueKind.Object) { errors.Add($"{at}: not an object"); return; }
        foreach (var r in required)
            if (!e.TryGetProperty(r, out _)) errors.Add($"{at}.{r}: missing");
        foreach (var p in e.EnumerateObject())
            if (!allowed.Contains(p.Name)) errors.Add($"{at}.{p.Name}: not a field of the schema");
    }

    private static void String(JsonElement e, string name, string at, List<string> errors, Regex? pattern = null)
    {
        if (!e.TryGetProperty(name, out var v)) return;
        if (v.ValueKind != JsonValueKind.String) errors.Add($"{at}.{name}: not a string");
        else if (pattern != null && !pattern.IsMatch(v.GetString()!)) errors.Add($"{at}.{name}: '{v.GetString()}' does not match {pattern}");
    }

    private static void Enum(JsonElement e, string name, string at, List<string> errors, string[] values)
    {
        if (e.TryGetProperty(name, out var v) && (v.ValueKind != JsonValueKind.String || !values.Contains(v.GetString())))
            errors.Add($"{at}.{name}: not one of {string.Join(", ", values)}");
    }

    private static void Uri(JsonElement e, string name, string at, List<string> errors)
    {
        if (e.TryGetProperty(name, out var v) && (v.ValueKind != JsonValueKind.String || !System.Uri.TryCreate(v.GetString(), UriKind.Absolute, out _)))
            errors.Add($"{at}.{name}: not an absolute URI");
    }
}
