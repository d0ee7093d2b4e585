using System.Globalization;

namespace AgentFs.Cli.Output;

/// <summary>How times, modes and file types are written, the same in text and JSON.</summary>
internal static class Formats
{
    /// <summary>RFC 3339 in UTC with all nine digits of nanoseconds: 2025-11-24T11:13:00.123456789Z.</summary>
    public static string Time(long unixNs)
    {
        long seconds = Math.DivRem(unixNs, 1_000_000_000L, out long frac);
        if (frac < 0) { frac += 1_000_000_000L; seconds--; }
        var t = DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime;
        return t.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "." + frac.ToString("D9", CultureInfo.InvariantCulture) + "Z";
    }

    /// <summary>RFC 3339 in UTC with milliseconds (checkpoint and branch times are kept to the millisecond).</summary>
    public static string Time(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>A short form in UTC for text listings: 2025-11-24 11:13:00.</summary>
    public static string ShortTime(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>Permission and set-id/sticky bits as four octal digits: "0644", "1777".</summary>
    public static string Mode(uint mode) => PosixMode.OctalPermissions(mode);

    public static string Type(uint mode) => PosixMode.TypeName(mode);

    /// <summary>Text columns are tab-separated: tabs and line breaks inside a value become spaces.</summary>
    public static string Cell(string? s)
    {
        if (string.IsNullOrEmpty(s)) return "";
        return string.Create(s.Length, s, static (span, src) =>
        {
            for (int i = 0; i < src.Length; i++) span[i] = char.IsControl(src[i]) ? ' ' : src[i];
        });
    }
}
