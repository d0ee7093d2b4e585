using System.Text.Json.Serialization;

namespace AgentFs.Store;

/// <summary>The JSON the store keeps in its rows (a checkpoint's metadata), generated at build time: the published
/// command is a Native AOT program, where reflection-based serialization is not there.</summary>
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
internal sealed partial class CheckpointMetaJson : JsonSerializerContext;
