using System.Text.Json;
using AgentFs.Fuse;

namespace AgentFs.Sandbox;

/// <summary>
/// A running sandbox as <c>agentfs status</c> lists it. Each <see cref="SandboxedProcess"/> keeps one file in the
/// mount registry directory (<see cref="AgentMount.RegistryDirectory"/>), named PID.run, while it runs; a file
/// whose process is gone (agentfs run was SIGKILLed) is removed by the next <see cref="List"/>.
/// </summary>
public sealed record SandboxRecord(string Store, string Branch, string MountPath, int Pid, int SandboxPid,
    IReadOnlyList<string> Command, string Network, DateTimeOffset Started)
{
    internal string Register()
    {
        try
        {
            Directory.CreateDirectory(AgentMount.RegistryDirectory);
            string file = Path.Combine(AgentMount.RegistryDirectory, $"{Pid}.run");
            File.WriteAllText(file, JsonSerializer.Serialize(this));
            return file;
        }
        catch (Exception) { return ""; }
    }

    /// <summary>The sandboxes running on this machine (their agentfs run process is alive).</summary>
    public static IReadOnlyList<SandboxRecord> List()
    {
        var list = new List<SandboxRecord>();
        if (!Directory.Exists(AgentMount.RegistryDirectory)) return list;
        foreach (string f in Directory.EnumerateFiles(AgentMount.RegistryDirectory, "*.run"))
        {
            SandboxRecord? r;
            try { r = JsonSerializer.Deserialize<SandboxRecord>(File.ReadAllText(f)); }
            catch (Exception) { continue; }
            if (r != null && Directory.Exists($"/proc/{r.SandboxPid}") && Directory.Exists($"/proc/{r.Pid}")) list.Add(r);
            else
                try { File.Delete(f); } catch (Exception) { }
        }
        list.Sort((a, b) => a.Started.CompareTo(b.Started));
        return list;
    }
}
