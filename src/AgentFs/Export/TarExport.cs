using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.Text;

namespace AgentFs;

/// <summary>
/// Writes one view of a branch as a POSIX tar (pax format, through System.Formats.Tar), depth first with
/// the entries of each directory in byte order of their names, the root itself left out.
///
/// What each entry carries: type (regular file, directory, symlink, hard link, fifo, character and block
/// device), permission bits with set-id and sticky bits, uid/gid as numbers (no user or group names: the
/// store's owners need not exist on the reading machine), mtime, and in pax records atime, ctime and the
/// extended attributes. A second or later path of an inode with several links is a hard-link entry naming
/// the first path. Sockets are skipped (tar has no type for them) and reported.
///
/// Limits of System.Formats.Tar, and what we do about them:
/// - mtime is kept as a DateTimeOffset (100 ns ticks), so the tar's mtime is exact to 100 ns, not 1 ns
///   (atime and ctime are exact: we write their pax records ourselves).
/// - names and link targets are strings written as UTF-8: a name that is not valid UTF-8 is written with
///   each invalid byte as \xNN and reported (<see cref="ByteNames"/>).
/// - pax values are strings written as UTF-8: an xattr whose value is valid UTF-8 goes in SCHILY.xattr.NAME
///   (what GNU tar --xattrs reads), byte for byte; one that is not goes in LIBARCHIVE.xattr.NAME as base64
///   (what bsdtar reads; GNU tar ignores it with a warning).
/// - sparse files are written in full (no GNU sparse records). So a file whose size is larger than the room left
///   on the output's file system (a sparse file of terabytes, or a size in a damaged store) is refused before its
///   entry is written, naming it and its size, instead of filling the disk (exports to a stream other than a file,
///   such as stdout, are not checked: they run like cat of that file, which the reader can stop).
///
/// A directory met again inside itself (a store whose rows name one of a directory's parents as its child) is
/// refused as a corrupt store instead of exported forever; so is any row the library refuses, and the error then
/// names the path it was met at.
/// </summary>
internal sealed class TarExport
{
    private readonly AgentFileSystem _fs;
    private readonly TarWriter _writer;
    private readonly IProgress<ExportProgress>? _progress;
    private readonly CancellationToken _cancel;
    private readonly Dictionary<ulong, string> _firstPathOfInode = new();
    /// <summary>The directories from the root down to the one being exported, with their paths.</summary>
    private readonly Dictionary<ulong, string> _openDirectories = new() { [InodeNumbers.Root] = "/" };
    /// <summary>The file the tar is written to, whose file system's free space bounds a file's size; null for other streams.</summary>
    private readonly string? _destinationFile;
    private readonly List<string> _warnings = new();
    private long _entries, _files, _dirs, _symlinks, _hardLinks, _specials, _bytes;

    public TarExport(AgentFileSystem fs, Stream destination, IProgress<ExportProgress>? progress, CancellationToken cancel)
    {
        _fs = fs;
        _writer = new TarWriter(destination, TarEntryFormat.Pax, leaveOpen: true);
        _destinationFile = destination is FileStream file ? file.Name : null;
        _progress = progress;
        _cancel = cancel;
    }

    public ExportResult Run()
    {
        var clock = Stopwatch.StartNew();
        using (_writer) ExportDirectory(InodeNumbers.Root, "");
        return new ExportResult(_entries, _files, _dirs, _symlinks, _hardLinks, _specials, _bytes, clock.Elapsed, _warnings);
    }

    private void ExportDirectory(ulong dirIno, string prefix)
    {
        List<DirectoryEntry> entries;
        try { entries = _fs.Inodes.ReadDirectory(dirIno); }
        catch (AgentFsException e) when (e.Errno is Errno.ENOENT or Errno.ESTALE)
        {
            Warn($"{Show(prefix)}: vanished while being exported");
            return;
        }
        catch (AgentFsException e) { throw e.WithPath(Show(prefix)); }
        entries.Sort(static (a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        foreach (var e in entries)
        {
            _cancel.ThrowIfCancellationRequested();
            string name = prefix + ByteNames.Decode(e.Name, out bool escaped);
            if (escaped) Warn($"{name}: the name is not UTF-8; its invalid bytes are written as \\xNN");
            InodeAttributes a;
            try { a = _fs.Inodes.Lookup(dirIno, e.Name); }
            catch (AgentFsException ex) when (ex.Errno is Errno.ENOENT or Errno.ESTALE)
            {
                Warn($"{name}: vanished while being exported");
                continue;
            }
            catch (AgentFsException ex) { throw ex.WithPath(name); }
            try
            {
                if (a.IsDirectory)
                {
                    if (!_openDirectories.TryAdd(a.Ino, name))
                        throw Store.StoreCorruption.Error(_fs.Store.Path, $"directory inode {a.Ino} at /{_openDirectories[a.Ino].TrimStart('/')} " +
                            $"is inside itself, again at /{name} (a dentry row names one of its own parent directories)");
                    Write(NewEntry(TarEntryType.Directory, name + "/", a));
                    _dirs++;
                    ExportDirectory(a.Ino, name + "/");
                    _openDirectories.Remove(a.Ino);
                }
                else ExportNonDirectory(name, a);
            }
            catch (AgentFsException ex) { throw ex.WithPath(name); }
            finally { _fs.Inodes.Forget(a.Ino); } // a whole tree: let the view forget where each base object lives once written
        }
    }

    private void ExportNonDirectory(string name, InodeAttributes a)
    {
        if (a.Nlink > 1)
        {
            if (_firstPathOfInode.TryGetValue(a.Ino, out var first))
            {
                var link = new PaxTarEntry(TarEntryType.HardLink, name, TimeRecords(a)) { LinkName = first };
                SetCommon(link, a);
                Write(link);
                _hardLinks++;
                return;
            }
            _firstPathOfInode[a.Ino] = name;
        }
        switch (a.Mode & PosixMode.S_IFMT)
        {
            case PosixMode.S_IFREG:
            {
                CheckRoomFor(name, a.Size);
                var entry = NewEntry(TarEntryType.RegularFile, name, a);
                using var data = new InodeContentStream(_fs, a.Ino, a.Size);
                entry.DataStream = data;
                Write(entry);
                if (data.ChangedWhileRead) Warn($"{name}: changed size while being exported (written meanwhile); its entry has the size it had when the export reached it");
                _files++;
                _bytes += a.Size;
                break;
            }
            case PosixMode.S_IFLNK:
            {
                var entry = NewEntry(TarEntryType.SymbolicLink, name, a);
                entry.LinkName = ByteNames.Decode(_fs.Inodes.ReadLink(a.Ino), out bool escaped);
                if (escaped) Warn($"{name}: the symlink target is not UTF-8; its invalid bytes are written as \\xNN");
                Write(entry);
                _symlinks++;
                break;
            }
            case PosixMode.S_IFIFO:
                Write(NewEntry(TarEntryType.Fifo, name, a));
                _specials++;
                break;
            case PosixMode.S_IFCHR or PosixMode.S_IFBLK:
            {
                var entry = NewEntry((a.Mode & PosixMode.S_IFMT) == PosixMode.S_IFCHR ? TarEntryType.CharacterDevice : TarEntryType.BlockDevice, name, a);
                entry.DeviceMajor = (int)Major(a.Rdev);
                entry.DeviceMinor = (int)Minor(a.Rdev);
                Write(entry);
                _specials++;
                break;
            }
            default:
                _firstPathOfInode.Remove(a.Ino);
                Warn($"{name}: a socket; tar has no entry type for it, so it is left out");
                break;
        }
    }

    /// <summary>A file larger than the room left where the tar is written is refused before its entry is started.
    /// (Checked for files of 64 MiB and more: one statvfs each.)</summary>
    private void CheckRoomFor(string name, long size)
    {
        if (_destinationFile == null || size < 64L << 20) return;
        long free = StoreFiles.FreeBytes(Path.GetDirectoryName(_destinationFile) ?? "/");
        if (free >= 0 && size > free)
            throw new AgentFsException(Errno.ENOSPC,
                $"/{name} is {size} bytes (a sparse file?), more than the {free} bytes free where the export is written ({Path.GetDirectoryName(_destinationFile)}); " +
                "a tar holds every file in full, so the export stops here and writes nothing");
    }

    private PaxTarEntry NewEntry(TarEntryType type, string name, InodeAttributes a)
    {
        var records = TimeRecords(a);
        foreach (var attr in _fs.Inodes.ListXattr(a.Ino))
        {
            byte[] value;
            try { value = _fs.Inodes.GetXattr(a.Ino, attr); }
            catch (AgentFsException e) when (e.Errno == Errno.ENODATA) { continue; }
            if (System.Text.Unicode.Utf8.IsValid(value) && !attr.Contains('=') && !attr.Contains('\n'))
                records.Add(new("SCHILY.xattr." + attr, Encoding.UTF8.GetString(value)));
            else
                records.Add(new("LIBARCHIVE.xattr." + Uri.EscapeDataString(attr), Convert.ToBase64String(value)));
        }
        var entry = new PaxTarEntry(type, name, records);
        SetCommon(entry, a);
        return entry;
    }

    private static List<KeyValuePair<string, string>> TimeRecords(InodeAttributes a) =>
    [
        new("atime", PaxTime(a.AtimeNs)),
        new("ctime", PaxTime(a.CtimeNs)),
    ];

    private static void SetCommon(PaxTarEntry entry, InodeAttributes a)
    {
        entry.Mode = (UnixFileMode)(a.Mode & PosixMode.PermissionMask);
        entry.Uid = (int)a.Uid;
        entry.Gid = (int)a.Gid;
        entry.ModificationTime = FromNs(a.MtimeNs);
    }

    private void Write(PaxTarEntry entry)
    {
        _writer.WriteEntry(entry);
        _entries++;
        _progress?.Report(new ExportProgress(_entries, _bytes, entry.Name));
    }

    private void Warn(string line) => _warnings.Add(line);

    private static string Show(string prefix) => prefix.Length == 0 ? "/" : prefix.TrimEnd('/');

    /// <summary>Seconds since the epoch with all nine digits of nanoseconds, as a pax time record.</summary>
    internal static string PaxTime(long ns)
    {
        ulong abs = ns < 0 ? (ulong)(-(ns + 1)) + 1 : (ulong)ns;
        ulong seconds = abs / 1_000_000_000UL, frac = abs % 1_000_000_000UL;
        string text = (ns < 0 ? "-" : "") + seconds.ToString(CultureInfo.InvariantCulture);
        return frac == 0 ? text : text + "." + frac.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0');
    }

    private static DateTimeOffset FromNs(long ns) =>
        DateTimeOffset.UnixEpoch.AddTicks(Math.DivRem(ns, 100L, out long rem) - (rem < 0 ? 1 : 0));

    // glibc's encoding of dev_t (gnu_dev_major/minor).
    internal static ulong Major(ulong dev) => ((dev >> 8) & 0xfff) | ((dev >> 32) & 0xfffff000);
    internal static ulong Minor(ulong dev) => (dev & 0xff) | ((dev >> 12) & 0xffffff00);
}

/// <summary>
/// The content of one inode as a stream of exactly the size it had when the export reached it: TarWriter
/// copies Length bytes after writing the header, so a file that shrinks meanwhile is padded with zeros and
/// one that grows is cut (and either is flagged).
/// </summary>
internal sealed class InodeContentStream : Stream
{
    private readonly AgentFileSystem _fs;
    private readonly ulong _ino;
    private readonly long _length;
    private long _position;

    public InodeContentStream(AgentFileSystem fs, ulong ino, long length)
    {
        _fs = fs;
        _ino = ino;
        _length = length;
    }

    public bool ChangedWhileRead { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _position; set => _position = Math.Clamp(value, 0, _length); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position >= _length) return 0;
        var want = buffer[..(int)Math.Min(buffer.Length, _length - _position)];
        int n = _fs.Inodes.Read(_ino, _position, want);
        if (n == 0)
        {
            // The file got shorter than it was when its header was written.
            ChangedWhileRead = true;
            want.Clear();
            n = want.Length;
        }
        _position += n;
        if (_position == _length && !ChangedWhileRead)
        {
            try { ChangedWhileRead = _fs.Inodes.GetAttr(_ino).Size != _length; }
            catch (AgentFsException) { ChangedWhileRead = true; }
        }
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => _length + offset };
        return _position;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
