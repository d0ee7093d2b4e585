using System.Runtime.InteropServices;

namespace AgentFs.Fuse.Protocol;

// Decoding of each request and encoding of its reply. Every handler returns the reply payload length,
// a negative errno, or NoReply.
internal sealed unsafe partial class FuseWorker
{
    private const uint S_IFDIR = 0x4000;

    /// <summary>PAGE_SIZE - 1: the kernel reads a symlink target into one page.</summary>
    private const int SymlinkMax = 4095;

    private int Dispatch(in FuseInHeader header, ReadOnlySpan<byte> payload)
    {
        var context = new FuseContext(in header, this);
        ulong node = header.NodeId;
        switch (header.Opcode)
        {
            case FuseOpcode.Init:
                return _session.HandleInit(payload, ReplyPayload);

            case FuseOpcode.Lookup:
            {
                ReadOnlySpan<byte> name = CString(payload, out _);
                ref FuseEntryOut entry = ref ReplyStruct<FuseEntryOut>();
                return Result(_fs.Lookup(in context, node, name, ref entry), sizeof(FuseEntryOut));
            }

            case FuseOpcode.Forget:
                if (MemoryMarshal.TryRead(payload, out FuseForgetIn forget))
                    _fs.Forget(node, forget.NLookup);
                return NoReply;

            case FuseOpcode.BatchForget:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseBatchForgetIn batch))
                    return NoReply;
                int available = (payload.Length - sizeof(FuseBatchForgetIn)) / sizeof(FuseForgetOne);
                int count = (int)Math.Min(batch.Count, (uint)Math.Max(0, available));
                _fs.BatchForget(MemoryMarshal.Cast<byte, FuseForgetOne>(
                    payload.Slice(sizeof(FuseBatchForgetIn), count * sizeof(FuseForgetOne))));
                return NoReply;
            }

            case FuseOpcode.GetAttr:
            {
                MemoryMarshal.TryRead(payload, out FuseGetAttrIn getattr);
                ulong? fh = (getattr.GetAttrFlags & FuseRequestFlags.GetAttrFh) != 0 ? getattr.Fh : null;
                ref FuseAttrOut attr = ref ReplyStruct<FuseAttrOut>();
                return Result(_fs.GetAttr(in context, node, fh, ref attr), sizeof(FuseAttrOut));
            }

            case FuseOpcode.SetAttr:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseSetAttrIn setattr))
                    return -LinuxErrno.EINVAL;
                ref FuseAttrOut attr = ref ReplyStruct<FuseAttrOut>();
                return Result(_fs.SetAttr(in context, node, in setattr, ref attr), sizeof(FuseAttrOut));
            }

            case FuseOpcode.ReadLink:
            {
                Span<byte> target = ReplyPayload.Slice(0, SymlinkMax);
                int error = _fs.ReadLink(in context, node, target, out int length);
                return Result(error, Math.Clamp(length, 0, SymlinkMax));
            }

            case FuseOpcode.Symlink:
            {
                ReadOnlySpan<byte> name = CString(payload, out ReadOnlySpan<byte> rest);
                ReadOnlySpan<byte> target = CString(rest, out _);
                ref FuseEntryOut entry = ref ReplyStruct<FuseEntryOut>();
                return Result(_fs.Symlink(in context, node, name, target, ref entry), sizeof(FuseEntryOut));
            }

            case FuseOpcode.Mknod:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseMknodIn mknod))
                    return -LinuxErrno.EINVAL;
                ReadOnlySpan<byte> name = CString(payload.Slice(sizeof(FuseMknodIn)), out _);
                ref FuseEntryOut entry = ref ReplyStruct<FuseEntryOut>();
                return Result(_fs.Mknod(in context, node, name, mknod.Mode, mknod.Rdev, mknod.Umask, ref entry), sizeof(FuseEntryOut));
            }

            case FuseOpcode.Mkdir:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseMkdirIn mkdir))
                    return -LinuxErrno.EINVAL;
                ReadOnlySpan<byte> name = CString(payload.Slice(sizeof(FuseMkdirIn)), out _);
                ref FuseEntryOut entry = ref ReplyStruct<FuseEntryOut>();
                return Result(_fs.Mkdir(in context, node, name, mkdir.Mode | S_IFDIR, mkdir.Umask, ref entry), sizeof(FuseEntryOut));
            }

            case FuseOpcode.Unlink:
                return Result(_fs.Unlink(in context, node, CString(payload, out _)), 0);

            case FuseOpcode.Rmdir:
                return Result(_fs.Rmdir(in context, node, CString(payload, out _)), 0);

            case FuseOpcode.Rename:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseRenameIn rename))
                    return -LinuxErrno.EINVAL;
                ReadOnlySpan<byte> oldName = CString(payload.Slice(sizeof(FuseRenameIn)), out ReadOnlySpan<byte> rest);
                ReadOnlySpan<byte> newName = CString(rest, out _);
                return Result(_fs.Rename(in context, node, oldName, rename.NewDir, newName, 0), 0);
            }

            case FuseOpcode.Rename2:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseRename2In rename))
                    return -LinuxErrno.EINVAL;
                ReadOnlySpan<byte> oldName = CString(payload.Slice(sizeof(FuseRename2In)), out ReadOnlySpan<byte> rest);
                ReadOnlySpan<byte> newName = CString(rest, out _);
                return Result(_fs.Rename(in context, node, oldName, rename.NewDir, newName, rename.Flags), 0);
            }

            case FuseOpcode.Link:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseLinkIn link))
                    return -LinuxErrno.EINVAL;
                ReadOnlySpan<byte> newName = CString(payload.Slice(sizeof(FuseLinkIn)), out _);
                ref FuseEntryOut entry = ref ReplyStruct<FuseEntryOut>();
                return Result(_fs.Link(in context, link.OldNodeId, node, newName, ref entry), sizeof(FuseEntryOut));
            }

            case FuseOpcode.Open:
            {
                MemoryMarshal.TryRead(payload, out FuseOpenIn open);
                ref FuseOpenOut reply = ref ReplyStruct<FuseOpenOut>();
                return Result(_fs.Open(in context, node, (int)open.Flags, open.OpenFlags, ref reply), sizeof(FuseOpenOut));
            }

            case FuseOpcode.OpenDir:
            {
                MemoryMarshal.TryRead(payload, out FuseOpenIn open);
                ref FuseOpenOut reply = ref ReplyStruct<FuseOpenOut>();
                return Result(_fs.OpenDir(in context, node, (int)open.Flags, ref reply), sizeof(FuseOpenOut));
            }

            case FuseOpcode.Create:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseCreateIn create))
                    return -LinuxErrno.EINVAL;
                ReadOnlySpan<byte> name = CString(payload.Slice(sizeof(FuseCreateIn)), out _);
                ref FuseEntryOut entry = ref ReplyStruct<FuseEntryOut>();
                ref FuseOpenOut open = ref ReplyStruct<FuseOpenOut>(sizeof(FuseEntryOut));
                int error = _fs.Create(in context, node, name, (int)create.Flags, create.Mode, create.Umask, ref entry, ref open);
                return Result(error, sizeof(FuseEntryOut) + sizeof(FuseOpenOut));
            }

            case FuseOpcode.Read:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseReadIn read))
                    return -LinuxErrno.EINVAL;
                Span<byte> buffer = ReplyPayload;
                buffer = buffer.Slice(0, (int)Math.Min(read.Size, (uint)buffer.Length));
                int error = _fs.Read(in context, node, read.Fh, (long)read.Offset, buffer, out int bytesRead);
                return Result(error, Math.Clamp(bytesRead, 0, buffer.Length));
            }

            case FuseOpcode.Write:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseWriteIn write))
                    return -LinuxErrno.EINVAL;
                ReadOnlySpan<byte> data = payload.Slice(sizeof(FuseWriteIn));
                data = data.Slice(0, (int)Math.Min(write.Size, (uint)data.Length));
                int error = _fs.Write(in context, node, write.Fh, (long)write.Offset, data, write.WriteFlags, out int written);
                ReplyStruct<FuseWriteOut>().Size = (uint)Math.Clamp(written, 0, data.Length);
                return Result(error, sizeof(FuseWriteOut));
            }

            case FuseOpcode.StatFs:
            {
                ref FuseKstatfs stat = ref ReplyStruct<FuseKstatfs>();
                return Result(_fs.StatFs(in context, node, ref stat), sizeof(FuseKstatfs));
            }

            case FuseOpcode.Release:
            {
                MemoryMarshal.TryRead(payload, out FuseReleaseIn release);
                return Result(_fs.Release(in context, node, release.Fh, (int)release.Flags, release.ReleaseFlags), 0);
            }

            case FuseOpcode.ReleaseDir:
            {
                MemoryMarshal.TryRead(payload, out FuseReleaseIn release);
                return Result(_fs.ReleaseDir(in context, node, release.Fh), 0);
            }

            case FuseOpcode.Flush:
            {
                MemoryMarshal.TryRead(payload, out FuseFlushIn flush);
                return Result(_fs.Flush(in context, node, flush.Fh, flush.LockOwner), 0);
            }

            case FuseOpcode.Fsync:
            {
                MemoryMarshal.TryRead(payload, out FuseFsyncIn fsync);
                return Result(_fs.Fsync(in context, node, fsync.Fh, (fsync.FsyncFlags & FuseRequestFlags.FsyncFdatasync) != 0), 0);
            }

            case FuseOpcode.FsyncDir:
            {
                MemoryMarshal.TryRead(payload, out FuseFsyncIn fsync);
                return Result(_fs.FsyncDir(in context, node, fsync.Fh, (fsync.FsyncFlags & FuseRequestFlags.FsyncFdatasync) != 0), 0);
            }

            case FuseOpcode.ReadDir:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseReadIn read))
                    return -LinuxErrno.EINVAL;
                Span<byte> buffer = ReplyPayload;
                var writer = new FuseDirWriter(buffer.Slice(0, (int)Math.Min(read.Size, (uint)buffer.Length)));
                int error = _fs.ReadDir(in context, node, read.Fh, (long)read.Offset, ref writer);
                return Result(error, writer.Length);
            }

            case FuseOpcode.ReadDirPlus:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseReadIn read))
                    return -LinuxErrno.EINVAL;
                Span<byte> buffer = ReplyPayload;
                var writer = new FuseDirPlusWriter(buffer.Slice(0, (int)Math.Min(read.Size, (uint)buffer.Length)));
                int error = _fs.ReadDirPlus(in context, node, read.Fh, (long)read.Offset, ref writer);
                return Result(error, writer.Length);
            }

            case FuseOpcode.SetXattr:
            {
                uint size, flags, setXattrFlags = 0;
                ReadOnlySpan<byte> rest;
                if (_session.HasGranted(FuseInitFlags.SetXattrExt))
                {
                    if (!MemoryMarshal.TryRead(payload, out FuseSetXattrExtIn ext))
                        return -LinuxErrno.EINVAL;
                    (size, flags, setXattrFlags) = (ext.Size, ext.Flags, ext.SetXattrFlags);
                    rest = payload.Slice(sizeof(FuseSetXattrExtIn));
                }
                else
                {
                    if (!MemoryMarshal.TryRead(payload, out FuseSetXattrIn compat))
                        return -LinuxErrno.EINVAL;
                    (size, flags) = (compat.Size, compat.Flags);
                    rest = payload.Slice(sizeof(FuseSetXattrIn));
                }
                ReadOnlySpan<byte> name = CString(rest, out ReadOnlySpan<byte> value);
                if (size > (uint)value.Length)
                    return -LinuxErrno.EINVAL;
                return Result(_fs.SetXattr(in context, node, name, value.Slice(0, (int)size), (int)flags, setXattrFlags), 0);
            }

            case FuseOpcode.GetXattr:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseGetXattrIn getxattr))
                    return -LinuxErrno.EINVAL;
                ReadOnlySpan<byte> name = CString(payload.Slice(sizeof(FuseGetXattrIn)), out _);
                if (getxattr.Size == 0)
                {
                    int probe = _fs.GetXattr(in context, node, name, Span<byte>.Empty, out int needed);
                    ReplyStruct<FuseGetXattrOut>().Size = (uint)Math.Max(0, needed);
                    return Result(probe, sizeof(FuseGetXattrOut));
                }
                Span<byte> value = ReplyPayload;
                value = value.Slice(0, (int)Math.Min(getxattr.Size, (uint)value.Length));
                int error = _fs.GetXattr(in context, node, name, value, out int length);
                return error == 0 && length > value.Length ? -LinuxErrno.ERANGE : Result(error, Math.Max(0, length));
            }

            case FuseOpcode.ListXattr:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseGetXattrIn listxattr))
                    return -LinuxErrno.EINVAL;
                if (listxattr.Size == 0)
                {
                    int probe = _fs.ListXattr(in context, node, Span<byte>.Empty, out int needed);
                    ReplyStruct<FuseGetXattrOut>().Size = (uint)Math.Max(0, needed);
                    return Result(probe, sizeof(FuseGetXattrOut));
                }
                Span<byte> list = ReplyPayload;
                list = list.Slice(0, (int)Math.Min(listxattr.Size, (uint)list.Length));
                int error = _fs.ListXattr(in context, node, list, out int length);
                return error == 0 && length > list.Length ? -LinuxErrno.ERANGE : Result(error, Math.Max(0, length));
            }

            case FuseOpcode.RemoveXattr:
                return Result(_fs.RemoveXattr(in context, node, CString(payload, out _)), 0);

            case FuseOpcode.Access:
            {
                MemoryMarshal.TryRead(payload, out FuseAccessIn access);
                return Result(_fs.Access(in context, node, (int)access.Mask), 0);
            }

            case FuseOpcode.Interrupt:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseInterruptIn interrupt))
                    return NoReply;
                // Not found: the request is not being handled yet (or any more). EAGAIN makes the kernel
                // queue the interrupt again if the request is still pending; otherwise it is dropped.
                return _session.Interrupt(interrupt.Unique) ? NoReply : -LinuxErrno.EAGAIN;
            }

            case FuseOpcode.Destroy:
                _session.OnDestroyRequest();
                return 0;

            case FuseOpcode.Fallocate:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseFallocateIn fallocate))
                    return -LinuxErrno.EINVAL;
                return Result(_fs.Fallocate(in context, node, fallocate.Fh, (long)fallocate.Offset, (long)fallocate.Length, (int)fallocate.Mode), 0);
            }

            case FuseOpcode.Lseek:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseLseekIn lseek))
                    return -LinuxErrno.EINVAL;
                int error = _fs.Lseek(in context, node, lseek.Fh, (long)lseek.Offset, (int)lseek.Whence, out long offset);
                ReplyStruct<FuseLseekOut>().Offset = (ulong)offset;
                return Result(error, sizeof(FuseLseekOut));
            }

            case FuseOpcode.CopyFileRange:
            case FuseOpcode.CopyFileRange64:
            {
                if (!MemoryMarshal.TryRead(payload, out FuseCopyFileRangeIn copy))
                    return -LinuxErrno.EINVAL;
                ulong length = header.Opcode == FuseOpcode.CopyFileRange ? Math.Min(copy.Len, uint.MaxValue) : copy.Len;
                int error = _fs.CopyFileRange(in context, node, copy.FhIn, (long)copy.OffIn, copy.NodeIdOut, copy.FhOut,
                    (long)copy.OffOut, length, copy.Flags, out ulong copied);
                copied = Math.Min(copied, length);
                if (header.Opcode == FuseOpcode.CopyFileRange)
                {
                    ReplyStruct<FuseWriteOut>().Size = (uint)copied;
                    return Result(error, sizeof(FuseWriteOut));
                }
                ReplyStruct<FuseCopyFileRangeOut>().BytesCopied = copied;
                return Result(error, sizeof(FuseCopyFileRangeOut));
            }

            case FuseOpcode.NotifyReply:
                return NoReply;

            default:
                return -LinuxErrno.ENOSYS;
        }
    }

    private static int Result(int error, int payloadLength) =>
        error == 0 ? payloadLength : -Math.Abs(error);

    /// <summary>Takes a NUL-terminated string off the front of <paramref name="data"/>.</summary>
    private static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> data, out ReadOnlySpan<byte> rest)
    {
        int end = data.IndexOf((byte)0);
        if (end < 0)
        {
            rest = default;
            return data;
        }
        rest = data.Slice(end + 1);
        return data.Slice(0, end);
    }
}
