namespace AgentFs.Store;

/// <summary>SQLite's GLOB, for the rows the reader filters itself: '*' any run (including '/'), '?' one
/// character, [...] a class with ranges and '^' negation; case-sensitive.</summary>
internal static class Glob
{
    public static bool IsMatch(string text, string pattern) => Match(text, 0, pattern, 0);

    private static bool Match(string s, int si, string p, int pi)
    {
        while (pi < p.Length)
        {
            char c = p[pi];
            if (c == '*')
            {
                while (pi < p.Length && p[pi] == '*') pi++;
                if (pi == p.Length) return true;
                for (int k = si; k <= s.Length; k++)
                    if (Match(s, k, p, pi)) return true;
                return false;
            }
            if (si >= s.Length) return false;
            if (c == '?') { si++; pi++; continue; }
            if (c == '[')
            {
                int end = p.IndexOf(']', pi + 2 <= p.Length ? pi + 2 : p.Length);
                if (end < 0) return false;
                bool negate = p[pi + 1] == '^';
                int from = negate ? pi + 2 : pi + 1;
                if (negate && end == from) end = p.IndexOf(']', end + 1);
                if (end < 0) return false;
                bool hit = false;
                for (int k = from; k < end; k++)
                {
                    if (k + 2 < end && p[k + 1] == '-') { hit |= s[si] >= p[k] && s[si] <= p[k + 2]; k += 2; }
                    else hit |= s[si] == p[k];
                }
                if (hit == negate) return false;
                si++;
                pi = end + 1;
                continue;
            }
            if (s[si] != c) return false;
            si++;
            pi++;
        }
        return si == s.Length;
    }
}
