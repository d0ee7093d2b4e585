using System.Text;
using AgentFs.Fuse.Protocol;
using Xunit.Abstractions;

namespace AgentFs.Fuse.Tests;

/// <summary>Real mounts of the in-memory filesystem, exercised with ordinary system calls and tools.</summary>
public class MountTests(ITestOutputHelper output)
{
    [Fact]
    public void ReportsWhatTheKernelGrantedAtInit()
    {
        if (!TestMount.FuseAvailable)
            return;
        using var mount = new TestMount();
        FuseConnectionInfo connection = mount.Session.Connection;
        output.WriteLine(connection.ToString());
        Console.WriteLine("FUSE INIT on this machine: " + connection);

        Assert.Same(connection, mount.Fs.Connection);
        Assert.Equal(7u, connection.KernelMajor);
        Assert.True(connection.Has(FuseInitFlags.AsyncRead | FuseInitFlags.BigWrites | FuseInitFlags.ParallelDirOps));
        Assert.True(connection.Has(FuseInitFlags.MaxPages));
        Assert.Equal(256, connection.MaxPages);
        Assert.Equal(1u << 20, connection.MaxWrite);
        Assert.True(connection.WritebackCache);
        string line = File.ReadLines("/proc/mounts").Single(l => l.Split(' ')[1] == mount.Path);
        Assert.StartsWith("agentfs-test ", line);
        Assert.Contains(" fuse.agentfs ", line);
    }

    [Fact]
    public void FilesDirectoriesRenamesLinksAndToolsWork()
    {
        if (!TestMount.FuseAvailable)
            return;
        using var mount = new TestMount();

        File.WriteAllText(mount["hello.txt"], "hello, fuse\n");
        Assert.Equal("hello, fuse\n", File.ReadAllText(mount["hello.txt"]));
        Assert.Equal("hello, fuse\n", TestMount.Run("cat", mount["hello.txt"]));

        Directory.CreateDirectory(mount["sub/deeper"]);
        File.WriteAllText(mount["sub/b.txt"], "bee");
        Assert.Equal(new[] { "b.txt", "deeper" },
            Directory.GetFileSystemEntries(mount["sub"]).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        File.Move(mount["hello.txt"], mount["sub/renamed.txt"]);
        Assert.False(File.Exists(mount["hello.txt"]));
        Assert.Equal("hello, fuse\n", File.ReadAllText(mount["sub/renamed.txt"]));
        File.WriteAllText(mount["other.txt"], "other");
        File.Move(mount["other.txt"], mount["sub/b.txt"], overwrite: true);
        Assert.Equal("other", File.ReadAllText(mount["sub/b.txt"]));

        File.CreateSymbolicLink(mount["link"], "sub/renamed.txt");
        Assert.Equal("sub/renamed.txt", new FileInfo(mount["link"]).LinkTarget);
        Assert.Equal("hello, fuse\n", File.ReadAllText(mount["link"]));
        Assert.Equal("hello, fuse\n", TestMount.Run("cat", mount["link"]));

        TestMount.Run("ln", mount["sub/b.txt"], mount["hard"]);
        Assert.Equal("2", TestMount.Run("stat", "-c", "%h", mount["hard"]).Trim());

        using (var stream = new FileStream(mount["sub/b.txt"], FileMode.Open, FileAccess.ReadWrite))
            stream.SetLength(2);
        Assert.Equal("ot", File.ReadAllText(mount["hard"]));
        File.SetUnixFileMode(mount["hard"], UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(mount["sub/b.txt"]));

        string listing = TestMount.Run("ls", "-la", mount.Path);
        output.WriteLine(listing);
        Assert.Contains("link -> sub/renamed.txt", listing);
        Assert.Contains(" sub", listing);
        Assert.Contains(" hard", listing);

        File.Delete(mount["hard"]);
        Directory.Delete(mount["sub"], recursive: true);
        Assert.Equal(new[] { "link" }, Directory.GetFileSystemEntries(mount.Path).Select(Path.GetFileName));
        DriveInfo drive = new(mount.Path);
        Assert.True(drive.TotalSize > 0);
    }

    [Fact]
    public void FiveMiBRoundTripsByteForByte()
    {
        if (!TestMount.FuseAvailable)
            return;
        using var mount = new TestMount();
        byte[] data = new byte[5 << 20];
        new Random(42).NextBytes(data);

        File.WriteAllBytes(mount["big.bin"], data);
        Assert.Equal(data, mount.Fs.ContentOf("big.bin"));

        // Drop the page cache so the bytes come back through READ, not from memory.
        Assert.Equal(0, mount.Session.NotifyInvalInode(mount.Fs.NodeIdOf("big.bin")!.Value));
        int readsBefore = mount.Fs.Reads;
        Assert.Equal(data, File.ReadAllBytes(mount["big.bin"]));
        Assert.True(mount.Fs.Reads > readsBefore);
        Assert.Equal(data.Length, new FileInfo(mount["big.bin"]).Length);
    }

    [Fact]
    public void TheReadPathAllocatesNothingPerRequest()
    {
        if (!TestMount.FuseAvailable)
            return;
        var fs = new MemoryFileSystem(timeout: TimeSpan.FromMinutes(1)) { TrackReadAllocations = true };
        byte[] content = new byte[32 << 20];
        new Random(7).NextBytes(content);
        fs.PutFileBehindKernel("stream.bin", content);
        using var mount = new TestMount(fs);

        using (var stream = new FileStream(mount["stream.bin"], FileMode.Open, FileAccess.Read, FileShare.Read, 1))
        {
            byte[] chunk = new byte[1 << 20];
            while (stream.Read(chunk) > 0)
            {
            }
        }
        Assert.True(fs.Reads >= 16, $"only {fs.Reads} reads"); // read-ahead asks for up to 1 MiB at a time
        output.WriteLine($"{fs.Reads} reads, at most {fs.MaxAllocatedBetweenReads} bytes allocated between two on one thread");
        Assert.Equal(0, fs.MaxAllocatedBetweenReads);
    }

    [Fact]
    public void ConcurrentReadersSeeTheSameBytes()
    {
        if (!TestMount.FuseAvailable)
            return;
        using var mount = new TestMount();
        var files = Enumerable.Range(0, 6).Select(i =>
        {
            byte[] content = new byte[300_000 + i * 1000];
            new Random(i).NextBytes(content);
            mount.Fs.PutFileBehindKernel($"f{i}", content);
            return (Name: $"f{i}", Content: content);
        }).ToArray();

        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, thread =>
        {
            for (int round = 0; round < 4; round++)
                foreach ((string name, byte[] content) in files)
                {
                    using var stream = new FileStream(mount[name], FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
                    byte[] read = new byte[content.Length];
                    // Read at scattered offsets so the threads hit different parts of the files.
                    int chunk = 65536 + thread * 4096;
                    for (int offset = 0; offset < read.Length; offset += chunk)
                        stream.ReadAtLeast(read.AsSpan(offset, Math.Min(chunk, read.Length - offset)), Math.Min(chunk, read.Length - offset));
                    if (!read.AsSpan().SequenceEqual(content))
                        failures.Add($"thread {thread} round {round} {name}");
                }
        });
        Assert.Empty(failures);
    }

    [Fact]
    public void ExtendedAttributesRoundTrip()
    {
        if (!TestMount.FuseAvailable)
            return;
        using var mount = new TestMount();
        string file = mount["x.txt"];
        File.WriteAllText(file, "x");

        Assert.Equal(0, Xattr.Set(file, "user.agentfs", "layer-1"u8.ToArray()));
        Assert.Equal(0, Xattr.Set(file, "user.other", [1, 2, 3]));
        Assert.Equal("layer-1", Encoding.UTF8.GetString(Xattr.Get(file, "user.agentfs", out _)!));
        Assert.Equal(34 /* ERANGE */, Xattr.GetIntoSmallBuffer(file, "user.agentfs"));
        Assert.Equal(new[] { "user.agentfs", "user.other" }, Xattr.List(file));
        Assert.Equal(17 /* EEXIST */, Xattr.Set(file, "user.other", [9], flags: 1));
        Assert.Equal(0, Xattr.Remove(file, "user.other"));
        Assert.Null(Xattr.Get(file, "user.other", out int errno));
        Assert.Equal(61 /* ENODATA */, errno);

        if (File.Exists("/usr/bin/getfattr") && File.Exists("/usr/bin/setfattr"))
        {
            TestMount.Run("setfattr", "-n", "user.tool", "-v", "from-setfattr", file);
            Assert.Contains("from-setfattr", TestMount.Run("getfattr", "-n", "user.tool", file));
        }
    }
}
