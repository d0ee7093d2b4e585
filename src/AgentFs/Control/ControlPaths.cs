using System.Security.Cryptography;
using System.Text;

namespace AgentFs.Control;

/// <summary>
/// Where the process that holds a branch for writing listens for control requests: a Unix socket in the
/// runtime directory, named after the store's id and the branch, so any process that can open the store
/// finds it without asking the holder.
/// </summary>
public static class ControlPaths
{
    /// <summary>The runtime directory: $AGENTFS_RUNTIME_DIR, else /run/agentfs for root, else /tmp/agentfs-USER.</summary>
    public static string RuntimeDirectory =>
        Environment.GetEnvironmentVariable("AGENTFS_RUNTIME_DIR") is { Length: > 0 } d ? d
        : Environment.UserName == "root" ? "/run/agentfs" : Path.Combine(Path.GetTempPath(), $"agentfs-{Environment.UserName}");

    public static string SocketFor(string storeId, string branch)
    {
        string h = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(branch)))[..12].ToLowerInvariant();
        return Path.Combine(RuntimeDirectory, $"ctl-{storeId}-{h}.sock");
    }
}
