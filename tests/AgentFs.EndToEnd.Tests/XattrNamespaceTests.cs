namespace AgentFs.EndToEnd.Tests;

/// <summary>
/// Extended attribute names outside the namespaces a local file system keeps ("foo.bar", "bogus", "system.foo") are
/// refused on a real mount exactly as in a native directory beside it (EOPNOTSUPP, which python names ENOTSUP; EINVAL for "user." alone), and
/// the valid ones keep working. Before, the mount stored any name.
/// </summary>
public sealed class XattrNamespaceTests
{
    /// <summary>For each name: what setxattr, getxattr and removexattr answer on a file in dir (python3's os calls).</summary>
    private static string Outcomes(MountedStore m, string dir)
    {
        const string script = """
            import errno, os, sys
            f = os.path.join(sys.argv[1], "x.txt")
            open(f, "w").close()
            def call(fn, *a):
                try:
                    fn(f, *a)
                    return "ok"
                except OSError as e:
                    return errno.errorcode[e.errno]
            for name in ["foo.bar", "bogus", "system.foo", "user.", "trusted.", "security.", "userx.y", "user.ok", "trusted.ok"]:
                print(name, "set", call(os.setxattr, name, b"v"), "get", call(os.getxattr, name), "remove", call(os.removexattr, name))
            """;
        return m.Sh($"python3 - '{dir}' <<'EOF'\n{script}\nEOF\n");
    }

    [Fact]
    public void Unknown_namespaces_are_refused_as_in_a_native_directory()
    {
        using var m = new MountedStore();
        string native = Path.Combine(m.Root, "native");
        Directory.CreateDirectory(native);
        string expected = Outcomes(m, native);
        Assert.Contains("foo.bar set ENOTSUP", expected); // the native file system really refuses it
        Assert.Contains("user.ok set ok get ok remove ok", expected);
        Assert.Equal(expected, Outcomes(m, m.MountPoint));
        Assert.Empty(m.Current!.FileSystem.ListXattr("/x.txt"));
    }
}
