using System.Text.Json;

namespace AgentFs.Cli.Mcp;

/// <summary>
/// The arguments of one tool call, checked against the tool's <see cref="ToolParameter"/>s before the tool runs: no
/// unknown names, every required one present, each of its declared JSON type and within its bounds. A violation is
/// an <see cref="AgentFsException"/> (EINVAL) naming the argument, which the tool returns as an error result
/// (SEP-1303: input errors go back to the model as tool execution errors, so it can correct the call).
/// </summary>
internal sealed class ToolArguments
{
    private readonly string _tool;
    private readonly IReadOnlyDictionary<string, JsonElement> _values;

    private ToolArguments(string tool, IReadOnlyDictionary<string, JsonElement> values)
    {
        _tool = tool;
        _values = values;
    }

    public static ToolArguments Check(string tool, IReadOnlyList<ToolParameter> parameters, IDictionary<string, JsonElement>? given)
    {
        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (name, value) in given ?? new Dictionary<string, JsonElement>())
        {
            var p = parameters.FirstOrDefault(p => p.Name == name)
                ?? throw Bad(tool, parameters.Count == 0
                    ? $"takes no arguments, but was given '{name}'"
                    : $"has no argument '{name}'; it takes {string.Join(", ", parameters.Select(p => p.Name))}");
            // A JSON null is "not given", as for an optional argument left out.
            if (value.ValueKind == JsonValueKind.Null) continue;
            CheckValue(tool, p, value);
            values[name] = value;
        }
        foreach (var p in parameters)
            if (p.Required && !values.ContainsKey(p.Name))
                throw Bad(tool, $"needs the argument '{p.Name}' ({p.Description})");
        return new ToolArguments(tool, values);
    }

    private static void CheckValue(string tool, ToolParameter p, JsonElement value)
    {
        switch (p.Kind)
        {
            case ToolParameterKind.String:
            case ToolParameterKind.Choice:
                if (value.ValueKind != JsonValueKind.String) throw WrongType(tool, p, value, "a string");
                if (p.Kind == ToolParameterKind.Choice && !p.Values.Contains(value.GetString()))
                    throw Bad(tool, $"argument '{p.Name}' is '{value.GetString()}'; it must be one of {string.Join(", ", p.Values)}");
                break;
            case ToolParameterKind.Reference:
                if (value.ValueKind == JsonValueKind.Number ? !value.TryGetInt64(out long id) || id < 1 : value.ValueKind != JsonValueKind.String)
                    throw WrongType(tool, p, value, "base, a branch name or a checkpoint id (a positive integer)");
                break;
            case ToolParameterKind.Integer:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long n)) throw WrongType(tool, p, value, "an integer");
                if (n < p.Minimum || n > p.Maximum)
                    throw Bad(tool, $"argument '{p.Name}' is {n}; it must be {Range(p)}");
                break;
            case ToolParameterKind.Boolean:
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw WrongType(tool, p, value, "true or false");
                break;
            case ToolParameterKind.ChoiceList:
                if (value.ValueKind != JsonValueKind.Array) throw WrongType(tool, p, value, "an array of strings");
                foreach (var item in value.EnumerateArray())
                    if (item.ValueKind != JsonValueKind.String || !p.Values.Contains(item.GetString()))
                        throw Bad(tool, $"argument '{p.Name}' holds {Describe(item)}; each item must be one of {string.Join(", ", p.Values)}");
                if (value.GetArrayLength() == 0) throw Bad(tool, $"argument '{p.Name}' is empty; leave it out for all, or name some of {string.Join(", ", p.Values)}");
                break;
            case ToolParameterKind.StringMap:
                if (value.ValueKind != JsonValueKind.Object) throw WrongType(tool, p, value, "an object of strings");
                foreach (var prop in value.EnumerateObject())
                {
                    if (prop.Name.Length == 0) throw Bad(tool, $"argument '{p.Name}' has an empty key");
                    if (prop.Value.ValueKind != JsonValueKind.String)
                        throw Bad(tool, $"argument '{p.Name}' has key '{prop.Name}' with {Describe(prop.Value)}; every value must be a string");
                }
                break;
        }
    }

    private static string Range(ToolParameter p) =>
        p.Maximum == long.MaxValue ? $"at least {p.Minimum}" : $"from {p.Minimum} to {p.Maximum}";

    private static AgentFsException WrongType(string tool, ToolParameter p, JsonElement value, string expected) =>
        Bad(tool, $"argument '{p.Name}' must be {expected}, not {Describe(value)}");

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string {Shorten(value.GetRawText())}",
        JsonValueKind.Number => $"the number {Shorten(value.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {value.GetRawText()}",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";

    private static AgentFsException Bad(string tool, string what) => new(Errno.EINVAL, $"tool {tool} {what}");

    public string? String(string name) => _values.TryGetValue(name, out var v) ? v.GetString() : null;

    /// <summary>A <see cref="ToolParameterKind.Reference"/> as the library spells refs: a checkpoint id as its digits.</summary>
    public string? Reference(string name) =>
        _values.TryGetValue(name, out var v) ? v.ValueKind == JsonValueKind.Number ? v.GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture) : v.GetString() : null;

    public long? Integer(string name) => _values.TryGetValue(name, out var v) ? v.GetInt64() : null;

    public bool Boolean(string name) => _values.TryGetValue(name, out var v) && v.GetBoolean();

    public IReadOnlyList<string>? Choices(string name) =>
        _values.TryGetValue(name, out var v) ? v.EnumerateArray().Select(e => e.GetString()!).Distinct().ToList() : null;

    public IReadOnlyDictionary<string, string>? StringMap(string name) =>
        _values.TryGetValue(name, out var v) ? v.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal) : null;

    public override string ToString() => _tool;
}
