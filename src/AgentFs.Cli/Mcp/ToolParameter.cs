namespace AgentFs.Cli.Mcp;

/// <summary>The JSON types a tool argument can have.</summary>
internal enum ToolParameterKind
{
    String,
    /// <summary>A state of the store: <c>base</c>, a branch name, or a checkpoint id (as a string or an integer).</summary>
    Reference,
    Integer,
    Boolean,
    /// <summary>A string that is one of <see cref="ToolParameter.Values"/>.</summary>
    Choice,
    /// <summary>An array of distinct strings, each one of <see cref="ToolParameter.Values"/>.</summary>
    ChoiceList,
    /// <summary>An object whose values are strings (metadata).</summary>
    StringMap,
}

/// <summary>
/// One argument of a tool: what its JSON schema says (type, description, bounds, allowed values) and what
/// <see cref="ToolArguments"/> checks, so the schema a client sees and the validation cannot drift apart.
/// </summary>
internal sealed record ToolParameter(string Name, ToolParameterKind Kind, string Description, bool Required = false)
{
    public long Minimum { get; init; } = long.MinValue;
    public long Maximum { get; init; } = long.MaxValue;
    public long? Default { get; init; }
    public string[] Values { get; init; } = [];
}
