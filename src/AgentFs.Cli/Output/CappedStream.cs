namespace AgentFs.Cli.Output;

/// <summary>A write-only stream that keeps the first <c>capacity</c> bytes written to it and counts the rest: a
/// diff for a page, which must not take the memory of a gigabyte-sized change.</summary>
internal sealed class CappedStream(int capacity) : Stream
{
    private readonly MemoryStream _kept = new();

    /// <summary>Everything written, kept or not.</summary>
    public long Total { get; private set; }

    public bool Truncated => Total > _kept.Length;

    public ReadOnlySpan<byte> Kept => _kept.GetBuffer().AsSpan(0, (int)_kept.Length);

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Total += buffer.Length;
        int room = capacity - (int)_kept.Length;
        if (room > 0) _kept.Write(buffer[..Math.Min(room, buffer.Length)]);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void WriteByte(byte value) => Write([value]);
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Total;
    public override long Position { get => Total; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
