using System.Runtime.InteropServices;
using System.Text;
using AgentFs.Fuse.Protocol;

namespace AgentFs.Fuse.Tests;

public class DirWriterTests
{
    [Fact]
    public void RecordsAreAlignedTo8AndPaddedWithZeros()
    {
        byte[] buffer = new byte[256];
        buffer.AsSpan().Fill(0xFF);
        var writer = new FuseDirWriter(buffer);
        Assert.True(writer.Add("abc"u8, 42, FuseDirWriter.TypeFromMode(0x8000), 1));
        Assert.Equal(32, writer.Length); // 24 + 3 rounded up to 8
        Assert.True(writer.Add("defghijk"u8, 43, 4, 2));
        Assert.Equal(64, writer.Length);

        FuseDirent first = MemoryMarshal.Read<FuseDirent>(buffer);
        Assert.Equal(42UL, first.Ino);
        Assert.Equal(1UL, first.Off);
        Assert.Equal(3u, first.NameLen);
        Assert.Equal(8u, first.Type);
        Assert.Equal("abc", Encoding.ASCII.GetString(buffer, 24, 3));
        Assert.All(buffer[27..32], b => Assert.Equal(0, b));
    }

    [Fact]
    public void AddRefusesWhatDoesNotFitAndWritesNothing()
    {
        byte[] buffer = new byte[40];
        var writer = new FuseDirWriter(buffer);
        Assert.True(writer.Add("a"u8, 1, 8, 1));
        Assert.False(writer.Add("b"u8, 2, 8, 2));
        Assert.Equal(32, writer.Length);

        var plus = new FuseDirPlusWriter(new byte[200]);
        var entry = new FuseEntryOut { NodeId = 5 };
        entry.Attr.Mode = 0x41ED;
        entry.Attr.Ino = 5;
        Assert.True(plus.Add("dir"u8, in entry, 1));
        Assert.Equal(160, plus.Length);
        Assert.False(plus.Add("x"u8, in entry, 2));
    }

    [Fact]
    public void NamesWithSlashOrNulOrEmptyAreRejected()
    {
        byte[] buffer = new byte[256];
        Assert.Throws<ArgumentException>(() => new FuseDirWriter(buffer).Add("a/b"u8, 1, 8, 1));
        Assert.Throws<ArgumentException>(() => new FuseDirWriter(buffer).Add("a\0b"u8, 1, 8, 1));
        Assert.Throws<ArgumentException>(() => new FuseDirWriter(buffer).Add(""u8, 1, 8, 1));
        Assert.True(FuseDirPlusWriter.IsDotOrDotDot(".."u8));
        Assert.False(FuseDirPlusWriter.IsDotOrDotDot(".a"u8));
    }
}
