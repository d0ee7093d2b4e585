using System.Buffers;
using System.Text;

namespace AgentFs;

/// <summary>
/// File names in a store are any bytes but '/' and NUL; .NET strings (and so the tar and JSON writers) carry
/// only Unicode. A name that is valid UTF-8 is decoded exactly; in one that is not, each byte of an invalid
/// sequence is written as the four characters \xNN (and the caller reports that it did so).
/// </summary>
internal static class ByteNames
{
    public static string Decode(ReadOnlySpan<byte> name, out bool escaped)
    {
        escaped = false;
        if (System.Text.Unicode.Utf8.IsValid(name)) return Encoding.UTF8.GetString(name);
        escaped = true;
        var sb = new StringBuilder(name.Length + 8);
        while (!name.IsEmpty)
        {
            var status = Rune.DecodeFromUtf8(name, out Rune rune, out int consumed);
            if (status == OperationStatus.Done) sb.Append(rune.ToString());
            else
                for (int i = 0; i < consumed; i++) sb.Append("\\x").Append(name[i].ToString("X2"));
            name = name[consumed..];
        }
        return sb.ToString();
    }

    public static string Decode(ReadOnlySpan<byte> name) => Decode(name, out _);
}
