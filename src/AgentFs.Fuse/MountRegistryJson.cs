using System.Text.Json.Serialization;

namespace AgentFs.Fuse;

/// <summary>The JSON of the mount registry (<see cref="MountRecord"/>, and why a mount failed), generated at build
/// time: the published command is a Native AOT program, where reflection-based serialization is not there.</summary>
[JsonSerializable(typeof(MountRecord))]
[JsonSerializable(typeof(AgentMount.MountFailure))]
internal sealed partial class MountRegistryJson : JsonSerializerContext;
