using System.Text;
using AgentFs.Overlay;

namespace AgentFs.Store;

/// <summary>The encoding of one commit's batch of operations in an oplog row (written once, off the hot path).</summary>
internal static class OperationLogCodec
{
    public static byte[] Encode(List<OpLogEntry> ops)
    {
        using var ms = new MemoryStream(ops.Count * 48);
        using var w = new BinaryWriter(ms);
        foreach (var o in ops)
        {
            w.Write(o.TimeNs);
            w.Write(o.Op);
            w.Write(o.Ino);
            w.Write(o.Parent);
            w.Write(o.Name?.Length ?? -1);
            if (o.Name != null) w.Write(o.Name);
            w.Write(o.Bytes);
            w.Write(o.Caller.Pid);
            w.Write(o.Caller.Uid);
            w.Write(ProcessNames.Get(o.Caller.Pid));
        }
        w.Flush();
        return ms.ToArray();
    }

    public static IEnumerable<OperationRecord> Decode(byte[] data, string branch)
    {
        var r = new BinaryReader(new MemoryStream(data));
        var list = new List<OperationRecord>();
        while (r.BaseStream.Position < r.BaseStream.Length)
        {
            long t = r.ReadInt64();
            string op = r.ReadString();
            ulong ino = r.ReadUInt64();
            ulong parent = r.ReadUInt64();
            int nameLen = r.ReadInt32();
            string? name = nameLen < 0 ? null : Encoding.UTF8.GetString(r.ReadBytes(nameLen));
            long bytes = r.ReadInt64();
            int pid = r.ReadInt32();
            uint uid = r.ReadUInt32();
            string comm = r.ReadString();
            list.Add(new OperationRecord(0, DateTimeOffset.FromUnixTimeMilliseconds(t / 1_000_000), branch, op, ino, parent, name, bytes, pid, uid, comm));
        }
        return list;
    }
}
