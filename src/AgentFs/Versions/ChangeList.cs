using System.Collections;

namespace AgentFs;

/// <summary>A list of changes (or their --stat figures), and how many changes inside version-control internals
/// (<c>.git</c>, <c>.hg</c>, <c>.jj</c>) were left out of it.</summary>
public sealed class ChangeList<T> : IReadOnlyList<T>
{
    private readonly IReadOnlyList<T> _items;

    internal ChangeList(IReadOnlyList<T> items, int vcsLeftOut)
    {
        _items = items;
        VcsLeftOut = vcsLeftOut;
    }

    /// <summary>Changes inside <c>.git</c>, <c>.hg</c> or <c>.jj</c> left out (0 with <see cref="DiffOptions.IncludeVcs"/>).</summary>
    public int VcsLeftOut { get; }

    /// <summary>The number of changes in the list.</summary>
    public int Count => _items.Count;
    /// <summary>The change at <paramref name="index"/>, in the list's order.</summary>
    public T this[int index] => _items[index];
    /// <summary>The changes, in the list's order.</summary>
    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
