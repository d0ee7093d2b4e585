using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace AgentFs.Tests;

/// <summary>
/// fallocate(2) in the library, mode by mode, against the same calls on a real file of the machine's filesystem
/// (ext4 does every mode we support; the test looks for a directory whose filesystem does ZERO_RANGE). After every
/// step the size and every byte must be equal, and again after the store is closed and opened.
/// </summary>
public class FallocateTests
{
    private const int Chunk = 64 * 1024;

    [DllImport("libc", SetLastError = true)]
    private static extern int fallocate(int fd, int mode, long offset, long len);

    private static readonly FallocateMode KeepSize = FallocateMode.KeepSize,
        Punch = FallocateMode.PunchHole | FallocateMode.KeepSize,
        Zero = FallocateMode.ZeroRange,
        ZeroKeep = FallocateMode.ZeroRange | FallocateMode.KeepSize;

    /// <summary>One step: (mode, offset, length) for fallocate, or a write (Mode null) of length bytes at offset,
    /// or a truncate (Mode null, length negative: size = offset).</summary>
    private readonly record struct Step(FallocateMode? Mode, long Offset, long Length);

    private static Step Fa(FallocateMode m, long off, long len) => new(m, off, len);
    private static Step Write(long off, long len) => new(null, off, len);
    private static Step Trunc(long size) => new(null, size, -1);

    public static TheoryData<string, bool> Cases() => new()
    {
        { "allocate-extends", false }, { "allocate-extends", true },
        { "allocate-inside-size-changes-nothing", true },
        { "keep-size-past-end", false }, { "keep-size-past-end", true },
        { "punch", false }, { "punch", true },
        { "punch-past-end", true },
        { "zero-inside", false }, { "zero-inside", true },
        { "zero-past-end-extends", false }, { "zero-past-end-extends", true },
        { "zero-beyond-end-extends", false }, { "zero-beyond-end-extends", true },
        { "zero-keep-size-past-end", false }, { "zero-keep-size-past-end", true },
        { "zero-keep-size-beyond-end", true },
        { "zero-then-truncate-up", true },
    };

    private static Step[] Steps(string name) => name switch
    {
        "allocate-extends" => [Fa(FallocateMode.Allocate, 1000, 3 * Chunk), Write(Chunk + 7, 100)],
        "allocate-inside-size-changes-nothing" => [Fa(FallocateMode.Allocate, 10, 5000)],
        "keep-size-past-end" => [Fa(KeepSize, 100, 5 * Chunk), Write(2 * Chunk, 10)],
        "punch" => [Fa(Punch, 100, 2 * Chunk + 5), Fa(Punch, 3 * Chunk, Chunk)],
        "punch-past-end" => [Fa(Punch, 2 * Chunk + 99, 10 * Chunk), Trunc(6 * Chunk)],
        "zero-inside" => [Fa(Zero, 3, 17), Fa(Zero, Chunk - 10, Chunk + 20), Fa(ZeroKeep, 2 * Chunk, Chunk)],
        "zero-past-end-extends" => [Fa(Zero, 2 * Chunk + 100, 3 * Chunk), Write(5 * Chunk, 3)],
        // The fsx failure: a zero range that starts past the end (EINVAL before the fix).
        "zero-beyond-end-extends" => [Fa(Zero, 5 * Chunk + 11, 1000), Fa(ZeroKeep, 7 * Chunk, 99)],
        "zero-keep-size-past-end" => [Fa(ZeroKeep, 3 * Chunk - 5, 4 * Chunk)],
        "zero-keep-size-beyond-end" => [Fa(ZeroKeep, 9 * Chunk, 5000), Trunc(10 * Chunk)],
        "zero-then-truncate-up" => [Fa(Zero, 50, 3 * Chunk), Trunc(10), Trunc(4 * Chunk), Write(3 * Chunk - 1, 2)],
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ModeMatchesTheNativeFilesystem(string name, bool onBaseFile)
    {
        using var t = new TempStore();
        var initial = RandomBytes(3 * Chunk + 1234, name.Length);
        if (onBaseFile) t.WriteBase("f", initial);
        using var native = new NativeFile(t.Root);
        using (var store = t.Create())
        using (var fs = store.OpenFileSystem())
        {
            if (!onBaseFile) fs.WriteAllBytes("f", []);
            native.Replace(onBaseFile ? initial : []);
            var rng = new Random(name.GetHashCode(StringComparison.Ordinal));
            foreach (var step in Steps(name))
            {
                Apply(fs, native, step, rng);
                AssertSame(native, fs, $"{name} after {step}");
            }
        }
        using (var store = AgentStore.Open(t.StorePath))
        using (var fs = store.OpenFileSystem(readOnly: true))
            AssertSame(native, fs, $"{name} after reopening the store");
    }

    /// <summary>Random writes, truncates, every supported mode and checkpoints (so zeroing also hides lower
    /// layers), on a base file and a new one; compared with the native file after every step.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void RandomSequencesMatchTheNativeFilesystem(int seed)
    {
        using var t = new TempStore();
        var rng = new Random(seed);
        var initial = RandomBytes(rng.Next(1, 6 * Chunk), seed);
        bool onBaseFile = seed % 2 == 1;
        if (onBaseFile) t.WriteBase("f", initial);
        using var native = new NativeFile(t.Root);
        FallocateMode[] modes = [FallocateMode.Allocate, KeepSize, Punch, Zero, ZeroKeep];
        using (var store = t.Create())
        using (var fs = store.OpenFileSystem())
        {
            if (!onBaseFile) fs.WriteAllBytes("f", []);
            native.Replace(onBaseFile ? initial : []);
            for (int i = 0; i < 300; i++)
            {
                long off = rng.Next(0, 8 * Chunk), len = rng.Next(1, 3 * Chunk);
                int kind = rng.Next(10);
                var step = kind switch
                {
                    < 3 => Write(off, len),
                    3 => Trunc(rng.Next(0, 8 * Chunk)),
                    _ => Fa(modes[rng.Next(modes.Length)], off, len),
                };
                Apply(fs, native, step, rng);
                AssertSame(native, fs, $"seed {seed} step {i}: {step}");
                if (rng.Next(40) == 0) fs.Checkpoint();
            }
        }
        using (var store = AgentStore.Open(t.StorePath))
        using (var fs = store.OpenFileSystem(readOnly: true))
            AssertSame(native, fs, $"seed {seed} after reopening the store");
    }

    [Theory]
    [InlineData(FallocateMode.PunchHole)]
    [InlineData(FallocateMode.CollapseRange)]
    [InlineData(FallocateMode.InsertRange)]
    [InlineData(FallocateMode.UnshareRange)]
    [InlineData(FallocateMode.UnshareRange | FallocateMode.KeepSize)]
    [InlineData(FallocateMode.NoHideStale)]
    [InlineData(FallocateMode.WriteZeroes)]
    [InlineData(FallocateMode.ZeroRange | FallocateMode.PunchHole | FallocateMode.KeepSize)]
    [InlineData((FallocateMode)0x100)]
    public void UnsupportedModesAreRefusedBeforeAnythingChanges(FallocateMode mode)
    {
        using var t = new TempStore();
        var initial = RandomBytes(2 * Chunk + 5, 9);
        t.WriteBase("f", initial);
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        var before = fs.GetAttributes("f");
        var e = Assert.Throws<AgentFsException>(() => fs.Fallocate("f", 0, Chunk, mode));
        Assert.Equal(Errno.EOPNOTSUPP, e.Errno);
        Assert.Equal(before, fs.GetAttributes("f"));
        Assert.Equal(initial, fs.ReadAllBytes("f"));
        fs.Checkpoint();
        Assert.Empty(store.Diff("base", "main"));
    }

    [Fact]
    public void AllocationInsideTheSizeDoesNotCopyUpABaseFile()
    {
        using var t = new TempStore();
        t.WriteBase("f", RandomBytes(3 * Chunk, 4));
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        var before = fs.GetAttributes("f");
        fs.Fallocate("f", 0, Chunk, FallocateMode.Allocate);
        fs.Fallocate("f", Chunk, 10 * Chunk, FallocateMode.KeepSize);
        Assert.Equal(before, fs.GetAttributes("f"));
        fs.Checkpoint();
        Assert.Empty(store.Diff("base", "main"));
    }

    [Fact]
    public void ArgumentErrorsFollowLinux()
    {
        using var t = new TempStore();
        using var store = t.Create();
        using var fs = store.OpenFileSystem();
        fs.WriteAllText("f", "x");
        fs.CreateDirectory("d");
        fs.MakeNode("fifo", PosixMode.S_IFIFO | 0x1A4);
        Assert.Equal(Errno.EINVAL, Assert.Throws<AgentFsException>(() => fs.Fallocate("f", 0, 0)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<AgentFsException>(() => fs.Fallocate("f", -1, 10)).Errno);
        // The mode is checked before the file type, as vfs_fallocate does.
        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<AgentFsException>(() => fs.Fallocate("d", 0, 1, FallocateMode.CollapseRange)).Errno);
        Assert.Equal(Errno.EISDIR, Assert.Throws<AgentFsException>(() => fs.Fallocate("d", 0, 1)).Errno);
        Assert.Equal(29 /* ESPIPE */, Assert.Throws<AgentFsException>(() => fs.Fallocate("fifo", 0, 1)).Errno);
        Assert.Equal(Errno.EFBIG, Assert.Throws<AgentFsException>(() => fs.Fallocate("f", AgentFileSystem.MaxFileSize, 1)).Errno);
        Assert.Equal(Errno.EFBIG, Assert.Throws<AgentFsException>(() => fs.Fallocate("f", long.MaxValue - 1, 5, FallocateMode.KeepSize)).Errno);
        Assert.Equal("x", fs.ReadAllText("f"));
    }

    private static void Apply(AgentFileSystem fs, NativeFile native, Step step, Random rng)
    {
        if (step.Mode is { } mode)
        {
            native.Fallocate(mode, step.Offset, step.Length);
            fs.Fallocate("f", step.Offset, step.Length, mode);
        }
        else if (step.Length < 0)
        {
            native.Truncate(step.Offset);
            fs.Truncate("f", step.Offset);
        }
        else
        {
            var data = new byte[step.Length];
            rng.NextBytes(data);
            native.Write(step.Offset, data);
            fs.WriteAt("f", step.Offset, data);
        }
    }

    private static void AssertSame(NativeFile native, AgentFileSystem fs, string when)
    {
        var expected = native.ReadAll();
        var actual = fs.ReadAllBytes("f");
        Assert.True(expected.Length == actual.Length, $"{when}: size {actual.Length}, the native file has {expected.Length}");
        int diff = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(diff == expected.Length, $"{when}: first different byte at {diff}");
        Assert.Equal(expected.Length, fs.GetAttributes("f").Size);
    }

    private static byte[] RandomBytes(int n, int seed)
    {
        var d = new byte[n];
        new Random(seed).NextBytes(d);
        return d;
    }

    /// <summary>A file on a real filesystem that does every mode we compare (ZERO_RANGE rules out tmpfs).</summary>
    private sealed class NativeFile : IDisposable
    {
        private readonly string _path;
        private SafeFileHandle _handle;

        public NativeFile(string preferredDir)
        {
            foreach (var dir in new[] { preferredDir, AppContext.BaseDirectory })
            {
                string p = Path.Combine(dir, $"native-{Guid.NewGuid():N}");
                var h = File.OpenHandle(p, FileMode.CreateNew, FileAccess.ReadWrite);
                if (fallocate((int)h.DangerousGetHandle(), (int)FallocateMode.ZeroRange, 0, 1) == 0)
                {
                    _path = p;
                    _handle = h;
                    return;
                }
                h.Dispose();
                File.Delete(p);
            }
            throw new InvalidOperationException($"no directory here ({preferredDir}, {AppContext.BaseDirectory}) is on a filesystem with fallocate ZERO_RANGE (ext4, xfs); the test needs one to compare with");
        }

        public void Replace(byte[] content)
        {
            Truncate(0);
            Write(0, content);
        }

        public void Fallocate(FallocateMode mode, long offset, long length)
        {
            if (fallocate((int)_handle.DangerousGetHandle(), (int)mode, offset, length) != 0)
                throw new InvalidOperationException($"native fallocate({mode}, {offset}, {length}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        public void Truncate(long size) => RandomAccess.SetLength(_handle, size);

        public void Write(long offset, byte[] data) => RandomAccess.Write(_handle, data, offset);

        public byte[] ReadAll()
        {
            var d = new byte[RandomAccess.GetLength(_handle)];
            int done = 0;
            while (done < d.Length) done += RandomAccess.Read(_handle, d.AsSpan(done), done);
            return d;
        }

        public void Dispose()
        {
            _handle.Dispose();
            File.Delete(_path);
        }
    }
}
