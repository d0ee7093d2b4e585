using AgentFs.Fuse;

namespace AgentFs.EndToEnd.Tests;

public class PassthroughTests
{
    [Fact]
    public void UntouchedBaseFilesAreReadThroughTheKernelAndWritesStillGoToTheOverlay()
    {
        var data = new byte[5_000_000];
        new Random(11).NextBytes(data);
        using var m = new MountedStore(b => File.WriteAllBytes(Path.Combine(b, "big.bin"), data));
        m.Unmount();
        using (var mount = AgentMount.Mount(m.StorePath, m.MountPoint, new AgentMountOptions { Passthrough = true }))
        {
            Assert.True(mount.Session.Connection.KernelFlags.HasFlag(AgentFs.Fuse.Protocol.FuseInitFlags.Passthrough),
                "the kernel did not grant passthrough");
            Assert.Equal(data, File.ReadAllBytes(m.P("big.bin")));
            using (var reader = File.OpenRead(m.P("big.bin")))
            {
                var e = Assert.ThrowsAny<IOException>(() => File.OpenWrite(m.P("big.bin")).Dispose());
                Assert.Contains("busy", e.Message, StringComparison.OrdinalIgnoreCase);
                Assert.Equal(data[..1000], new BinaryReader(reader).ReadBytes(1000));
            }
            using (var w = new FileStream(m.P("big.bin"), FileMode.Open, FileAccess.Write))
            {
                w.Position = 100;
                w.Write("overlay"u8);
            }
            "overlay"u8.CopyTo(data.AsSpan(100));
            Assert.Equal(data, File.ReadAllBytes(m.P("big.bin")));
            string expected = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(data)).ToLowerInvariant();
            Assert.Equal(expected, m.Sh("sha256sum < big.bin").Split(' ')[0]);
        }
        Assert.NotEqual(data, File.ReadAllBytes(Path.Combine(m.BaseDir, "big.bin"))); // the base was never written
    }
}
