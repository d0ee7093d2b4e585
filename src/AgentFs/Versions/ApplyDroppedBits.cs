using System.Text;

namespace AgentFs;

/// <summary>
/// A path whose set-user-id, set-group-id or sticky bit the branch asks for and apply left out: apply never
/// creates those bits in the target (they would be the applying user's, often root's, privileges on the
/// agent's content) unless <see cref="ApplyOptions.KeepSpecialBits"/> is set. A bit the path already had in
/// the target is kept when only the mode changes.
/// </summary>
public sealed record ApplyDroppedBits(byte[] RawPath, uint RequestedMode, uint AppliedMode)
{
    public string Path => Encoding.UTF8.GetString(RawPath);
    public override string ToString() =>
        $"{Path} {Convert.ToString(RequestedMode, 8).PadLeft(4, '0')} -> {Convert.ToString(AppliedMode, 8).PadLeft(4, '0')}";
}
