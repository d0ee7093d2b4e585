namespace AgentFs.Sandbox;

/// <summary>
/// One connection the sandbox asked the proxy of <c>--net allow=</c> for: reported once, when it is refused, or
/// when an allowed one ends (with the bytes it carried), or fails to connect.
/// </summary>
/// <param name="Method">CONNECT (a tunnel: HTTPS or any TCP) or the HTTP method of a plain request.</param>
/// <param name="Host">The host as the command asked for it.</param>
/// <param name="Address">Where the proxy connected (null when refused or nothing answered).</param>
/// <param name="Reason">Why it was refused or failed; null for a connection that was made.</param>
public sealed record NetworkAttempt(DateTimeOffset Time, string Method, string Host, int Port, bool Allowed,
    string? Address, long BytesSent, long BytesReceived, string? Reason)
{
    /// <summary>One line: "allowed CONNECT example.com:443 (93.184.215.14:443): 517 bytes sent, 4210 received".</summary>
    public override string ToString()
    {
        string target = Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
        if (!Allowed) return $"refused {Method} {target}: {Reason}";
        if (Address == null) return $"allowed {Method} {target}, but it failed: {Reason}";
        return $"allowed {Method} {target} ({Address}): {BytesSent} bytes sent, {BytesReceived} received" + (Reason is null ? "" : $" ({Reason})");
    }
}
