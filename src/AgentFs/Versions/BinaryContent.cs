namespace AgentFs.Versions;

/// <summary>
/// Whether content is binary, by git's rule (xdiff's buffer_is_binary): a NUL byte among the first 8000 bytes.
/// One rule for patches, --stat and Agent Trace, so they call the same files binary as git does.
/// </summary>
internal static class BinaryContent
{
    /// <summary>How many leading bytes git looks at (FIRST_FEW_BYTES).</summary>
    public const int ScanLength = 8000;

    public static bool IsBinary(ReadOnlySpan<byte> content) => content[..Math.Min(content.Length, ScanLength)].Contains((byte)0);
}
