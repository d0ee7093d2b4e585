using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentFs.Cli.Commands;
using AgentFs.Cli.Output;

namespace AgentFs.Cli;

/// <summary>
/// Every JSON document the command prints (<c>--json</c>), its code generated at build time: the published
/// command is a Native AOT program, which keeps no reflection-based serializer. A new document type is added
/// here, and written with <see cref="CommandIo.WriteJson{T}"/> and its type info (<c>CliJson.Document.X</c>);
/// the trim and AOT analyzers (Directory.Build.props) report any reflection-based JSON left in src/.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(StoreJson))]
[JsonSerializable(typeof(FileJson))]
[JsonSerializable(typeof(ListingJson))]
[JsonSerializable(typeof(ContentJson))]
[JsonSerializable(typeof(CheckpointJson))]
[JsonSerializable(typeof(LogJson))]
[JsonSerializable(typeof(BranchJson))]
[JsonSerializable(typeof(BranchesJson))]
[JsonSerializable(typeof(RollbackJson))]
[JsonSerializable(typeof(OperationJson))]
[JsonSerializable(typeof(OpsSummary))]
[JsonSerializable(typeof(List<StatusJson>))]
[JsonSerializable(typeof(ApplyCommand.ApplyJson))]
[JsonSerializable(typeof(ApplyCommand.ApplyStoppedJson))]
[JsonSerializable(typeof(BackupCommand.BackupJson))]
[JsonSerializable(typeof(RestoreCommand.RestoreJson))]
[JsonSerializable(typeof(DiffCommand.DiffJson))]
[JsonSerializable(typeof(ExportCommand.ExportJson))]
[JsonSerializable(typeof(PatchCommand.PatchJson))]
[JsonSerializable(typeof(GitOptions.RepositoryJson))]
[JsonSerializable(typeof(GitOptions.BranchJson), TypeInfoPropertyName = "RepositoryBranchJson")]
[JsonSerializable(typeof(IReadOnlyList<GitOptions.BranchJson>), TypeInfoPropertyName = "IReadOnlyListRepositoryBranchJson")]
internal sealed partial class CliJson : JsonSerializerContext
{
    /// <summary>A document: snake_case keys, every key present (null when there is no value), indented, non-ASCII
    /// text as it is (a terminal shows it; JSON allows it).</summary>
    public static CliJson Document { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>One document per line (<c>ops --json</c>, which streams): as <see cref="Document"/>, not indented.</summary>
    public static CliJson Line { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
