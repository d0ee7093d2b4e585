using System.IO.Compression;
using System.Text;

namespace AgentFs.Versions;

/// <summary>How git spells paths and binary data in patches.</summary>
internal static class GitEncoding
{
    /// <summary>
    /// git's quote_c_style with core.quotePath=true (the default): a name with a control character, '"',
    /// '\\', DEL or any byte >= 0x80 is written in double quotes, with \a \b \t \n \v \f \r \" \\ and
    /// three-digit octal escapes for the other bytes; any other name is written as it is (spaces included).
    /// </summary>
    public static bool NeedsQuoting(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
            if (b < 0x20 || b == '"' || b == '\\' || b >= 0x7F) return true;
        return false;
    }

    /// <summary>prefix + name, quoted as a whole when the name needs it (git's quote_two).</summary>
    public static string Quote(string prefix, ReadOnlySpan<byte> name)
    {
        if (!NeedsQuoting(name)) return prefix + Encoding.UTF8.GetString(name);
        var sb = new StringBuilder(prefix.Length + name.Length + 8);
        sb.Append('"').Append(prefix);
        foreach (byte b in name)
        {
            switch (b)
            {
                case 7: sb.Append("\\a"); break;
                case 8: sb.Append("\\b"); break;
                case 9: sb.Append("\\t"); break;
                case 10: sb.Append("\\n"); break;
                case 11: sb.Append("\\v"); break;
                case 12: sb.Append("\\f"); break;
                case 13: sb.Append("\\r"); break;
                case (byte)'"': sb.Append("\\\""); break;
                case (byte)'\\': sb.Append("\\\\"); break;
                default:
                    if (b < 0x20 || b >= 0x7F)
                        sb.Append('\\').Append((char)('0' + ((b >> 6) & 3))).Append((char)('0' + ((b >> 3) & 7))).Append((char)('0' + (b & 7)));
                    else sb.Append((char)b);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    public static string Quote(ReadOnlySpan<byte> name) => Quote("", name);

    private const string Base85Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";

    /// <summary>
    /// A "literal" hunk of a GIT binary patch: "literal SIZE", then the zlib-deflated bytes in lines of at most
    /// 52 bytes each, every line starting with its length ('A'..'Z' for 1-26, 'a'..'z' for 27-52) followed by
    /// git's base85 (5 characters per 4 bytes, big-endian, the last group zero-padded), then an empty line.
    /// </summary>
    public static void WriteLiteral(StringBuilder sb, ReadOnlySpan<byte> data)
    {
        byte[] deflated = Deflate(data);
        sb.Append("literal ").Append(data.Length).Append('\n');
        Span<char> group = stackalloc char[5];
        for (int pos = 0; pos < deflated.Length;)
        {
            int n = Math.Min(52, deflated.Length - pos);
            sb.Append(n <= 26 ? (char)('A' + n - 1) : (char)('a' + n - 27));
            for (int g = 0; g < n; g += 4)
            {
                uint acc = 0;
                for (int k = 0; k < 4; k++)
                    acc |= (uint)(g + k < n ? deflated[pos + g + k] : 0) << (24 - 8 * k);
                for (int c = 4; c >= 0; c--)
                {
                    group[c] = Base85Alphabet[(int)(acc % 85)];
                    acc /= 85;
                }
                sb.Append(group);
            }
            sb.Append('\n');
            pos += n;
        }
        sb.Append('\n');
    }

    private static byte[] Deflate(ReadOnlySpan<byte> data)
    {
        // DeflateStream writes nothing at all for no input; git needs a complete zlib stream (and stops
        // reading the patch, silently, at a literal without one).
        if (data.IsEmpty) return [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data);
        return ms.ToArray();
    }
}
