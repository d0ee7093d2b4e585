using System.Text.Json;
using System.Text.Json.Serialization;
using AgentFs.Fuse;

namespace AgentFs.Sandbox;

/// <summary>
/// A running sandbox as <c>agentfs status</c> lists it. Each <see cref="SandboxedProcess"/> keeps one file in the
/// mount registry directory (the runtime directory, <see cref="Control.ControlPaths.ChooseRuntimeDirectory"/>), named PID.run, while it runs; a file
/// whose process is gone (agentfs run was SIGKILLed) is removed by the next <see cref="List"/>.
/// </summary>
public sealed record SandboxRecord(string Store, string Branch, string MountPath, int Pid, int SandboxPid,
    IReadOnlyList<string> Command, string Network, DateTimeOffset Started)
{
    /// <summary>Loads and prepares the JSON code on a pool thread, while the store is opened: the record is written
    /// on the way to starting the command, where its first use would cost tens of milliseconds.</summary>
    internal static void Prepare() => Task.Run(() =>
    {
        try { JsonSerializer.Serialize(new SandboxRecord("", "", "", 0, 0, [], "", default), SandboxRecordJson.Default.SandboxRecord); }
        catch (Exception) { }
    });

    internal string Register()
    {
        try
        {
            Directory.CreateDirectory(Control.ControlPaths.ChooseRuntimeDirectory());
            string file = Path.Combine(Control.ControlPaths.ChooseRuntimeDirectory(), $"{Pid}.run");
            File.WriteAllText(file, JsonSerializer.Serialize(this, SandboxRecordJson.Default.SandboxRecord));
            return file;
        }
        catch (Exception) { return ""; }
    }

    /// <summary>The sandboxes running on this machine (their agentfs run process is alive).</summary>
    public static IReadOnlyList<SandboxRecord> List()
    {
        var list = new List<SandboxRecord>();
        if (!Directory.Exists(Control.ControlPaths.ChooseRuntimeDirectory())) return list;
        foreach (string f in Directory.EnumerateFiles(Control.ControlPaths.ChooseRuntimeDirectory(), "*.run"))
        {
            SandboxRecord? r;
            try { r = JsonSerializer.Deserialize(File.ReadAllText(f), SandboxRecordJson.Default.SandboxRecord); }
            catch (Exception) { continue; }
            if (r != null && Directory.Exists($"/proc/{r.SandboxPid}") && Directory.Exists($"/proc/{r.Pid}")) list.Add(r);
            else
                try { File.Delete(f); } catch (Exception) { }
        }
        list.Sort((a, b) => a.Started.CompareTo(b.Started));
        return list;
    }
}

/// <summary>The record's JSON, generated at build time: agentfs run writes it on the way to starting the command,
/// where reflection-based serialization cost tens of milliseconds on its first use.</summary>
[JsonSerializable(typeof(SandboxRecord))]
internal sealed partial class SandboxRecordJson : JsonSerializerContext;
