using System.Text;

namespace AgentFs;

/// <summary>A step of an apply on one path of the target.</summary>
public sealed record ApplyAction(ApplyActionKind Kind, byte[] RawPath, uint Mode)
{
    public string Path => Encoding.UTF8.GetString(RawPath);
}
