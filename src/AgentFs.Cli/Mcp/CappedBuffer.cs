using System.Text;

namespace AgentFs.Cli.Mcp;

/// <summary>
/// A write-only stream that keeps the first <c>limit</c> bytes written to it and counts the rest, so a diff of any size
/// can be written through it in constant memory and answered cut to the limit. <see cref="Text"/> cuts at the last line
/// end within the limit (never inside a UTF-8 character).
/// </summary>
internal sealed class CappedBuffer(int limit) : Stream
{
    private readonly MemoryStream _kept = new();

    public long Total { get; private set; }
    public bool Truncated => Total > limit;
    public long Kept => Truncated ? CutAt() : Total;

    public string Text() => Encoding.UTF8.GetString(_kept.GetBuffer(), 0, (int)Kept);

    private int CutAt()
    {
        var bytes = _kept.GetBuffer().AsSpan(0, (int)_kept.Length);
        int newline = bytes.LastIndexOf((byte)'\n');
        return newline >= 0 ? newline + 1 : 0;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Total += buffer.Length;
        int room = limit - (int)_kept.Length;
        if (room > 0) _kept.Write(buffer[..Math.Min(room, buffer.Length)]);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void WriteByte(byte value) => Write([value]);
    public override void Flush() { }
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Total;
    public override long Position { get => Total; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
