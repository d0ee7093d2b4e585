using System.Text.Json;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AgentFs.Cli.Mcp;

/// <summary>
/// One tool of <c>agentfs mcp</c>: its description and input schema, written from its <see cref="ToolParameter"/>s (no
/// reflection: the server is trim and Native AOT safe), and its work, a function of the checked arguments that
/// returns the text the matching command prints (the first content block) and notes, if any (one block each: what
/// the command says on stderr, what was left out to keep the answer short). Whatever goes wrong comes back as an error result with the one
/// line the command would print, never as a crash of the server: the model reads it and can correct its call.
/// </summary>
internal sealed class SessionTool : McpServerTool
{
    private readonly IReadOnlyList<ToolParameter> _parameters;
    private readonly Func<ToolArguments, string[]> _run;

    public SessionTool(string name, string description, IReadOnlyList<ToolParameter> parameters, ToolAnnotations annotations,
        Func<ToolArguments, string[]> run)
    {
        _parameters = parameters;
        _run = run;
        ProtocolTool = new Tool
        {
            Name = name,
            Description = description,
            InputSchema = InputSchema(parameters),
            Annotations = annotations,
        };
    }

    public override Tool ProtocolTool { get; }

    public override IReadOnlyList<object> Metadata => [];

    public override ValueTask<CallToolResult> InvokeAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken = default)
    {
        string name = ProtocolTool.Name;
        try
        {
            var arguments = ToolArguments.Check(name, _parameters, request.Params?.Arguments);
            return ValueTask.FromResult(Result(_run(arguments), isError: false));
        }
        catch (AgentFsException e)
        {
            return ValueTask.FromResult(Result([Program.OneLine(e.Message)], isError: true));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return ValueTask.FromResult(Result([$"unexpected error in tool {name}: {e.GetType().Name}: {Program.OneLine(e.Message)}"], isError: true));
        }
    }

    private static CallToolResult Result(string[] texts, bool isError) => new()
    {
        Content = [.. texts.Select(t => (ContentBlock)new TextContentBlock { Text = t })],
        IsError = isError ? true : null,
    };

    /// <summary>The JSON schema of the arguments: an object of the declared properties, nothing else allowed.</summary>
    private static JsonElement InputSchema(IReadOnlyList<ToolParameter> parameters)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type", "object");
            w.WriteStartObject("properties");
            foreach (var p in parameters)
            {
                w.WriteStartObject(p.Name);
                switch (p.Kind)
                {
                    case ToolParameterKind.String:
                        w.WriteString("type", "string");
                        break;
                    case ToolParameterKind.Reference:
                        w.WriteStartArray("type");
                        w.WriteStringValue("string");
                        w.WriteStringValue("integer");
                        w.WriteEndArray();
                        break;
                    case ToolParameterKind.Choice:
                        w.WriteString("type", "string");
                        WriteEnum(w, p.Values);
                        break;
                    case ToolParameterKind.Integer:
                        w.WriteString("type", "integer");
                        if (p.Minimum != long.MinValue) w.WriteNumber("minimum", p.Minimum);
                        if (p.Maximum != long.MaxValue) w.WriteNumber("maximum", p.Maximum);
                        if (p.Default is long d) w.WriteNumber("default", d);
                        break;
                    case ToolParameterKind.Boolean:
                        w.WriteString("type", "boolean");
                        break;
                    case ToolParameterKind.ChoiceList:
                        w.WriteString("type", "array");
                        w.WriteStartObject("items");
                        w.WriteString("type", "string");
                        WriteEnum(w, p.Values);
                        w.WriteEndObject();
                        w.WriteNumber("minItems", 1);
                        w.WriteBoolean("uniqueItems", true);
                        break;
                    case ToolParameterKind.StringMap:
                        w.WriteString("type", "object");
                        w.WriteStartObject("additionalProperties");
                        w.WriteString("type", "string");
                        w.WriteEndObject();
                        break;
                }
                w.WriteString("description", p.Description);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartArray("required");
            foreach (var p in parameters)
                if (p.Required) w.WriteStringValue(p.Name);
            w.WriteEndArray();
            w.WriteBoolean("additionalProperties", false);
            w.WriteEndObject();
        }
        using var document = JsonDocument.Parse(buffer.ToArray());
        return document.RootElement.Clone();
    }

    private static void WriteEnum(Utf8JsonWriter w, string[] values)
    {
        w.WriteStartArray("enum");
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
