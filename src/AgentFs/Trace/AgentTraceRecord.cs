using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentFs;

/// <summary>
/// An Agent Trace record (the open format of agent-trace.dev, specification version 0.1.0): which lines of which
/// files a change produced, and which conversation and model produced them. <see cref="ToJson"/> writes it
/// with the specification's field names; optional fields without a value are left out (the schema allows no
/// nulls and no fields of its own beyond <see cref="Metadata"/>).
/// </summary>
/// <param name="Version">The specification version, "0.1.0" (the schema's pattern is MAJOR.MINOR.PATCH).</param>
/// <param name="Id">A random (version 4) UUID.</param>
/// <param name="Timestamp">When the record was made (written as RFC 3339 in UTC).</param>
/// <param name="Vcs">Left null by AgentFs: the schema's vcs types are git, jj, hg and svn, and a store is none of them.</param>
/// <param name="Metadata">Implementation data; AgentFs puts its own under the key "dev.agentfs".</param>
public sealed record AgentTraceRecord(string Version, Guid Id, DateTimeOffset Timestamp, AgentTraceTool? Tool,
    IReadOnlyList<AgentTraceFile> Files, AgentTraceVcs? Vcs, JsonObject? Metadata)
{
    public const string SpecVersion = "0.1.0";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string ToJson(bool indented = true)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions with { Indented = indented }))
            WriteTo(w);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public void WriteTo(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("version", Version);
        w.WriteString("id", Id.ToString("D"));
        w.WriteString("timestamp", Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
        if (Vcs != null)
        {
            w.WriteStartObject("vcs");
            w.WriteString("type", Vcs.Type);
            w.WriteString("revision", Vcs.Revision);
            w.WriteEndObject();
        }
        if (Tool != null)
        {
            w.WriteStartObject("tool");
            w.WriteString("name", Tool.Name);
            w.WriteString("version", Tool.Version);
            w.WriteEndObject();
        }
        w.WriteStartArray("files");
        foreach (var f in Files)
        {
            w.WriteStartObject();
            w.WriteString("path", f.Path);
            w.WriteStartArray("conversations");
            foreach (var c in f.Conversations)
            {
                w.WriteStartObject();
                if (c.Url != null) w.WriteString("url", c.Url);
                if (c.Contributor != null)
                {
                    w.WritePropertyName("contributor");
                    WriteContributor(w, c.Contributor);
                }
                w.WriteStartArray("ranges");
                foreach (var r in c.Ranges)
                {
                    w.WriteStartObject();
                    w.WriteNumber("start_line", r.StartLine);
                    w.WriteNumber("end_line", r.EndLine);
                    if (r.ContentHash != null) w.WriteString("content_hash", r.ContentHash);
                    if (r.Contributor != null)
                    {
                        w.WritePropertyName("contributor");
                        WriteContributor(w, r.Contributor);
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                if (c.Related is { Count: > 0 })
                {
                    w.WriteStartArray("related");
                    foreach (var rel in c.Related)
                    {
                        w.WriteStartObject();
                        w.WriteString("type", rel.Type);
                        w.WriteString("url", rel.Url);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (Metadata != null)
        {
            w.WritePropertyName("metadata");
            Metadata.WriteTo(w);
        }
        w.WriteEndObject();
    }

    private static void WriteContributor(Utf8JsonWriter w, AgentTraceContributor c)
    {
        w.WriteStartObject();
        w.WriteString("type", c.Type);
        if (c.ModelId != null) w.WriteString("model_id", c.ModelId);
        w.WriteEndObject();
    }
}
