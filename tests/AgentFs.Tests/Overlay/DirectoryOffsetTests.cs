using System.Text;

namespace AgentFs.Tests;

/// <summary>readdir offsets are hashes of the names; names that collide must still each get an offset of their
/// own, or a listing read in pieces skips one of them.</summary>
public class DirectoryOffsetTests
{
    private static DirectoryEntry E(string name, long offset) => new(Encoding.UTF8.GetBytes(name), 10, 0x8000, offset);

    [Fact]
    public void Colliding_offsets_become_strictly_increasing_and_reading_on_after_the_first_finds_the_second()
    {
        var list = new List<DirectoryEntry> { E("b", 5), E("z", 6), E("a", 5), E("c", 4) };
        AgentFileSystem.SortByOffset(list);
        Assert.Equal(["c", "a", "b", "z"], list.Select(e => Encoding.UTF8.GetString(e.Name)));
        Assert.Equal([4L, 5, 6, 7], list.Select(e => e.Offset));
        // A readdir that stopped after "a" goes on from its offset: "b" comes next, not "z".
        Assert.Equal("b", Encoding.UTF8.GetString(list.First(e => e.Offset > 5).Name));
    }

    [Fact]
    public void Cookies_leave_room_above_for_moved_offsets()
    {
        for (int i = 0; i < 10_000; i++)
        {
            long c = AgentFileSystem.Cookie(Encoding.UTF8.GetBytes("name" + i));
            Assert.InRange(c, 3, long.MaxValue / 2);
        }
    }
}
