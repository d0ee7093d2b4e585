using System.Text;

namespace AgentFs;

/// <summary>A path where the target no longer matches what the change was made against, and how.</summary>
public sealed record ApplyConflict(byte[] RawPath, string Reason)
{
    public string Path => Encoding.UTF8.GetString(RawPath);
    public override string ToString() => $"{Path}: {Reason}";
}
