using System.Collections.Concurrent;

namespace AgentFs.Fuse;

/// <summary>
/// The names the kernel may have cached (positive and negative entries, which it keeps for the entry timeout), so
/// that they can be invalidated when the branch's state is replaced behind it (rollback). Asked on every lookup:
/// a name already remembered costs a hash and a compare, no allocation (the set is searched by span). Bounded:
/// once <see cref="Capacity"/> names are remembered, a new name is not, and the reply for it must tell the kernel
/// not to cache it (<see cref="TryRemember"/> returns false), so nothing the kernel caches is ever unknown here.
/// </summary>
internal sealed class KernelNameCache
{
    /// <summary>How many names it remembers at most (set before use).</summary>
    public int Capacity { get; set; } = 1 << 18;

    private readonly ConcurrentDictionary<CachedName, byte> _names = new(NameComparer.Instance);
    private readonly ConcurrentDictionary<CachedName, byte>.AlternateLookup<NameRef> _bySpan;
    private int _count;

    public KernelNameCache() => _bySpan = _names.GetAlternateLookup<NameRef>();

    /// <summary>Remembers a name the kernel is about to cache; false when the set is full (then it must not cache it).</summary>
    public bool TryRemember(ulong parent, ReadOnlySpan<byte> name)
    {
        var key = new NameRef(parent, name);
        if (_bySpan.ContainsKey(key)) return true;
        if (Volatile.Read(ref _count) >= Capacity) return false;
        if (_bySpan.TryAdd(key, 0)) Interlocked.Increment(ref _count);
        return true;
    }

    /// <summary>Hands every remembered name to <paramref name="invalidate"/> and forgets it.</summary>
    public void DrainTo(Action<ulong, byte[]> invalidate)
    {
        foreach (var key in _names.Keys)
        {
            invalidate(key.Parent, key.Name);
            if (_names.TryRemove(key, out _)) Interlocked.Decrement(ref _count);
        }
    }

    public int Count => Volatile.Read(ref _count);

    private readonly struct CachedName(ulong parent, byte[] name)
    {
        public readonly ulong Parent = parent;
        public readonly byte[] Name = name;
    }

    private readonly ref struct NameRef(ulong parent, ReadOnlySpan<byte> name)
    {
        public readonly ulong Parent = parent;
        public readonly ReadOnlySpan<byte> Name = name;
    }

    private sealed class NameComparer : IEqualityComparer<CachedName>, IAlternateEqualityComparer<NameRef, CachedName>
    {
        public static readonly NameComparer Instance = new();

        private static int Hash(ulong parent, ReadOnlySpan<byte> name)
        {
            var h = new HashCode();
            h.Add(parent);
            h.AddBytes(name);
            return h.ToHashCode();
        }

        public bool Equals(CachedName a, CachedName b) => a.Parent == b.Parent && a.Name.AsSpan().SequenceEqual(b.Name);
        public int GetHashCode(CachedName k) => Hash(k.Parent, k.Name);
        public bool Equals(NameRef a, CachedName b) => a.Parent == b.Parent && a.Name.SequenceEqual(b.Name);
        public int GetHashCode(NameRef k) => Hash(k.Parent, k.Name);
        public CachedName Create(NameRef k) => new(k.Parent, k.Name.ToArray());
    }
}
