using System.Text;

namespace AgentFs.Store;

/// <summary>The encoding of one commit's batch of operations in an oplog row, as versions 1 and 2 of the schema
/// wrote it (no paths). Only read now: the ops table holds the log since version 3.</summary>
internal static class OperationLogCodec
{
    public static IEnumerable<OperationRecord> Decode(byte[] data, string branch, long layer)
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
            // No path was recorded: a name in the root is its path; elsewhere the directory is known by inode only.
            string? path = name == null ? null : parent == InodeNumbers.Root ? name : $"(directory inode {parent})/{name}";
            list.Add(new OperationRecord(0, t, branch, layer, op, path, null, ino, bytes, pid, uid, comm));
        }
        return list;
    }
}
