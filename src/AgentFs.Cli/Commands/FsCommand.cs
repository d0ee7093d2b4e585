using System.CommandLine;
using System.Globalization;
using AgentFs.Cli.Output;
using Spectre.Console;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs fs STORE ls|cat|stat|write|mkdir|rm|mv|ln|symlink|chmod PATH... [--branch B]</c>: file operations
/// on a branch without mounting it. Paths are inside the branch ('/' is its root; a leading '/' is optional).
/// Reading subcommands open the store read-only; changing ones take the branch's write lease for their
/// duration and commit before they exit.
/// </summary>
internal static class FsCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var branch = CommonOptions.Branch();
        branch.Recursive = true;
        var fs = new Command("fs", "Read and change files of a branch without mounting it") { store, branch };

        Func<ParseResult, string> storeOf = r => r.GetValue(store)!;
        Func<ParseResult, string> branchOf = r => r.GetValue(branch)!;

        fs.Add(Ls(io, storeOf, branchOf));
        fs.Add(Cat(io, storeOf, branchOf));
        fs.Add(Stat(io, storeOf, branchOf));
        fs.Add(Write(io, storeOf, branchOf));
        fs.Add(Mkdir(storeOf, branchOf));
        fs.Add(Rm(storeOf, branchOf));
        fs.Add(Mv(storeOf, branchOf));
        fs.Add(Ln(storeOf, branchOf));
        fs.Add(Symlink(storeOf, branchOf));
        fs.Add(Chmod(storeOf, branchOf));
        return fs;
    }

    private static Argument<string> PathArgument(string name = "PATH", string description = "Path inside the branch") =>
        new(name) { Description = description };

    // ---- reading ----------------------------------------------------------------------------------

    private static Command Ls(CommandIo io, Func<ParseResult, string> storeOf, Func<ParseResult, string> branchOf)
    {
        var path = new Argument<string>("PATH") { Description = "Directory (or file) to list", DefaultValueFactory = _ => "/" };
        var longFormat = new Option<bool>("-l", "--long") { Description = "Show type, mode, links, owner, size and time" };
        var json = CommonOptions.Json();
        var cmd = new Command("ls", "List a directory, sorted by name") { path, longFormat, json };
        cmd.SetAction(r => Reading(storeOf(r), branchOf(r), fs =>
        {
            string p = AgentFileSystem.NormalizePath(r.GetValue(path)!);
            bool isLong = r.GetValue(longFormat), asJson = r.GetValue(json);
            // Like ls: a symlink to a directory named on the command line is listed, unless -l shows the link itself
            // (a dangling link, or one in a loop, is listed as itself).
            bool follow = !isLong && !asJson && fs.Exists(p, followSymlinks: true);
            var attrs = fs.GetAttributes(p, followSymlinks: follow);
            string dir = p;
            if (!isLong && !asJson)
            {
                if (!attrs.IsDirectory) io.Out.WriteLine(NameOf(p));
                else foreach (var e in fs.Enumerate(dir)) io.Out.WriteLine(e.NameString);
                return Program.ExitOk;
            }
            var entries = new List<FileJson>();
            if (attrs.IsDirectory)
            {
                // By inode, not by path: a name that is not UTF-8 cannot be spelled as a path string.
                foreach (var e in fs.Enumerate(dir))
                {
                    InodeAttributes a;
                    try { a = fs.Inodes.Lookup(attrs.Ino, e.Name); }
                    catch (AgentFsException x) { throw x.WithPath(Join(dir, e.NameString)); }
                    try
                    {
                        string? target = a.IsSymlink ? System.Text.Encoding.UTF8.GetString(fs.Inodes.ReadLink(a.Ino)) : null;
                        entries.Add(FileJson.From(Join(dir, e.NameString), e.NameString, a, target));
                    }
                    catch (AgentFsException x) { throw x.WithPath(Join(dir, e.NameString)); }
                }
            }
            else entries.Add(Describe(fs, p, NameOf(p), attrs));
            if (asJson) io.WriteJson(new ListingJson(fs.Branch, p, entries), CliJson.Document.ListingJson);
            else WriteLong(io, entries);
            return Program.ExitOk;
        }));
        return cmd;
    }

    private static FileJson Describe(AgentFileSystem fs, string path, string name, InodeAttributes a) =>
        FileJson.From(path, name, a, a.IsSymlink ? fs.ReadSymbolicLink(path) : null);

    /// <summary>The mode as ls -l writes it: "-rw-r--r--".</summary>
    private static string ModeString(FileJson e) => PosixMode.ToLsString(TypeBits(e.Type) | Convert.ToUInt32(e.Mode, 8));

    private static void WriteLong(CommandIo io, List<FileJson> entries)
    {
        static string NameWithTarget(FileJson e) => e.Target == null ? e.Name : $"{e.Name} -> {e.Target}";
        static string Modified(FileJson e) => e.Mtime[..10] + " " + e.Mtime[11..16];
        if (io.IsTerminal)
        {
            var table = new Table().Border(TableBorder.None).HideHeaders();
            foreach (var h in new[] { "Mode", "Links", "Uid", "Gid", "Size", "Modified", "Name" }) table.AddColumn(h);
            table.Columns[1].RightAligned();
            table.Columns[4].RightAligned();
            foreach (var e in entries)
                table.AddRow(Markup.Escape(ModeString(e)), e.Nlink.ToString(CultureInfo.InvariantCulture), e.Uid.ToString(CultureInfo.InvariantCulture),
                    e.Gid.ToString(CultureInfo.InvariantCulture), e.Size.ToString(CultureInfo.InvariantCulture), Modified(e), Markup.Escape(NameWithTarget(e)));
            io.Ansi.Write(table);
            return;
        }
        int wLinks = 1, wUid = 1, wGid = 1, wSize = 1;
        foreach (var e in entries)
        {
            wLinks = Math.Max(wLinks, e.Nlink.ToString(CultureInfo.InvariantCulture).Length);
            wUid = Math.Max(wUid, e.Uid.ToString(CultureInfo.InvariantCulture).Length);
            wGid = Math.Max(wGid, e.Gid.ToString(CultureInfo.InvariantCulture).Length);
            wSize = Math.Max(wSize, e.Size.ToString(CultureInfo.InvariantCulture).Length);
        }
        foreach (var e in entries)
            io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{ModeString(e)} {e.Nlink.ToString(CultureInfo.InvariantCulture).PadLeft(wLinks)} {e.Uid.ToString(CultureInfo.InvariantCulture).PadRight(wUid)} {e.Gid.ToString(CultureInfo.InvariantCulture).PadRight(wGid)} {e.Size.ToString(CultureInfo.InvariantCulture).PadLeft(wSize)} {Modified(e)} {NameWithTarget(e)}"));
    }

    private static uint TypeBits(string type) => type switch
    {
        "file" => PosixMode.S_IFREG, "directory" => PosixMode.S_IFDIR, "symlink" => PosixMode.S_IFLNK, "fifo" => PosixMode.S_IFIFO,
        "socket" => PosixMode.S_IFSOCK, "char_device" => PosixMode.S_IFCHR, "block_device" => PosixMode.S_IFBLK, _ => 0,
    };

    private static Command Cat(CommandIo io, Func<ParseResult, string> storeOf, Func<ParseResult, string> branchOf)
    {
        var path = PathArgument(description: "File to print (a symbolic link is followed)");
        var json = CommonOptions.Json();
        var cmd = new Command("cat", "Write the bytes of a file to stdout") { path, json };
        cmd.SetAction(r => Reading(storeOf(r), branchOf(r), fs =>
        {
            string p = AgentFileSystem.NormalizePath(r.GetValue(path)!);
            if (fs.GetAttributes(p, followSymlinks: true).IsDirectory)
                throw new AgentFsException(Errno.EISDIR, $"{p} is a directory in branch {fs.Branch}; use 'fs ls' to list it");
            if (r.GetValue(json))
            {
                byte[] data = fs.ReadAllBytes(p);
                io.WriteJson(new ContentJson(fs.Branch, p, data.LongLength, Convert.ToBase64String(data)), CliJson.Document.ContentJson);
                return Program.ExitOk;
            }
            io.FlushText();
            fs.ReadTo(p, io.Stdout);
            io.Stdout.Flush();
            return Program.ExitOk;
        }));
        return cmd;
    }

    private static Command Stat(CommandIo io, Func<ParseResult, string> storeOf, Func<ParseResult, string> branchOf)
    {
        var path = PathArgument(description: "Path to describe (a symbolic link itself, like lstat)");
        var json = CommonOptions.Json();
        var cmd = new Command("stat", "Show the attributes of a file, directory or link") { path, json };
        cmd.SetAction(r => Reading(storeOf(r), branchOf(r), fs =>
        {
            string p = AgentFileSystem.NormalizePath(r.GetValue(path)!);
            var e = Describe(fs, p, NameOf(p), fs.GetAttributes(p));
            if (r.GetValue(json))
            {
                io.WriteJson(e, CliJson.Document.FileJson);
                return Program.ExitOk;
            }
            var rows = new List<(string, string)>
            {
                ("path", e.Path), ("type", e.Type),
                ("mode", $"{e.Mode} ({ModeString(e)})"),
                ("size", e.Size.ToString(CultureInfo.InvariantCulture)), ("blocks", e.Blocks.ToString(CultureInfo.InvariantCulture)),
                ("ino", e.Ino.ToString(CultureInfo.InvariantCulture)), ("nlink", e.Nlink.ToString(CultureInfo.InvariantCulture)),
                ("uid", e.Uid.ToString(CultureInfo.InvariantCulture)), ("gid", e.Gid.ToString(CultureInfo.InvariantCulture)),
            };
            if (e.Type is "char_device" or "block_device") rows.Add(("rdev", e.Rdev.ToString(CultureInfo.InvariantCulture)));
            rows.Add(("atime", e.Atime));
            rows.Add(("mtime", e.Mtime));
            rows.Add(("ctime", e.Ctime));
            if (e.Target != null) rows.Add(("target", e.Target));
            foreach (var (k, v) in rows) io.Out.WriteLine($"{k}: {v}");
            return Program.ExitOk;
        }));
        return cmd;
    }

    // ---- changing ---------------------------------------------------------------------------------

    private static Command Write(CommandIo io, Func<ParseResult, string> storeOf, Func<ParseResult, string> branchOf)
    {
        var path = PathArgument(description: "File to write (created with mode 0644, or truncated)");
        var cmd = new Command("write", "Write stdin into a file, creating or truncating it") { path };
        cmd.SetAction(r => Writing(storeOf(r), branchOf(r), fs =>
        {
            fs.WriteFrom(r.GetValue(path)!, io.Stdin);
            return Program.ExitOk;
        }));
        return cmd;
    }

    private static Command Mkdir(Func<ParseResult, string> storeOf, Func<ParseResult, string> branchOf)
    {
        var path = PathArgument(description: "Directory to create");
        var parents = new Option<bool>("-p", "--parents") { Description = "Create missing parents; an existing directory is no error" };
        var cmd = new Command("mkdir", "Create a directory") { path, parents };
        cmd.SetAction(r => Writing(storeOf(r), branchOf(r), fs =>
        {
            string p = AgentFileSystem.NormalizePath(r.GetValue(path)!);
            if (!r.GetValue(parents))
            {
                if (fs.Exists(p)) throw new AgentFsException(Errno.EEXIST, $"cannot create directory {p}: it already exists in branch {fs.Branch}");
                string parent = ParentOf(p);
                if (!fs.Exists(parent))
                    throw new AgentFsException(Errno.ENOENT, $"cannot create directory {p}: {parent} does not exist in branch {fs.Branch}; use mkdir -p");
            }
            fs.CreateDirectory(p);
            return Program.ExitOk;
        }));
        return cmd;
    }

    private static Command Rm(Func<ParseResult, string> storeOf, Func<ParseResult, string> branchOf)
    {
        var path = PathArgument(description: "File, link or directory to remove");
        var recursive = new Option<bool>("-r", "-R", "--recursive") { Description = "Remove a directory and everything in it" };
        var cmd = new Command("rm", "Remove a file or link (a directory with -r)") { path, recursive };
        cmd.SetAction(r => Writing(storeOf(r), branchOf(r), fs =>
        {
            string p = AgentFileSystem.NormalizePath(r.GetValue(path)!);
            if (p == "/") throw new AgentFsException(Errno.EINVAL, $"refusing to remove the root of branch {fs.Branch}");
            bool rec = r.GetValue(recursive);
            if (fs.GetAttributes(p).IsDirectory && !rec)
                throw new AgentFsException(Errno.EISDIR, $"cannot remove {p}: it is a directory in branch {fs.Branch}; use rm -r");
            fs.Delete(p, rec);
            return Program.ExitOk;
        }));
        return cmd;
    }

    private static Command Mv(Func<ParseResult, string> storeOf, Func<ParseResult, string> branchOf)
    {
        var src = PathArgument("SRC", "What to move");
        var dst = PathArgument("DST", "New path, or an existing directory to move into");
        var cmd = new Command("mv", "Move or rename a file or directory (replaces an existing file, like mv)") { src, dst };
        cmd.SetAction(r => Writing(storeOf(r), branchOf(r), fs =>
        {
            string from = AgentFileSystem.NormalizePath(r.GetValue(src)!);
            string to = IntoDirectory(fs, r.GetValue(dst)!, NameOf(from));
            fs.Move(from, to);
            return Program.ExitOk;
        }));
        return cmd;
    }

    private static Command Ln(Func<ParseResult, string> storeOf, Func<ParseResult, string> branchOf)
    {
        var target = PathArgument("TARGET", "Existing file to link to (or, with -s, the text of the link)");
        var link = PathArgument("LINK", "New name, or an existing directory to create it in");
        var symbolic = new Option<bool>("-s", "--symbolic") { Description = "Make a symbolic link (same as 'fs symlink')" };
        var cmd = new Command("ln", "Make a hard link LINK to TARGET, like ln") { target, link, symbolic };
        cmd.SetAction(r => Writing(storeOf(r), branchOf(r), fs =>
        {
            if (r.GetValue(symbolic)) return MakeSymlink(fs, r.GetValue(target)!, r.GetValue(link)!);
            string existing = AgentFileSystem.NormalizePath(r.GetValue(target)!);
            string newPath = IntoDirectory(fs, r.GetValue(link)!, NameOf(existing));
            fs.CreateHardLink(newPath, existing);
            return Program.ExitOk;
        }));
        return cmd;
    }

    private static Command Symlink(Func<ParseResult, string> storeOf, Func<ParseResult, string> branchOf)
    {
        var target = PathArgument("TARGET", "Text of the link (not checked; relative to the link's directory, or absolute within the branch)");
        var link = PathArgument("LINK", "New link, or an existing directory to create it in");
        var cmd = new Command("symlink", "Make a symbolic link LINK pointing to TARGET, like ln -s") { target, link };
        cmd.SetAction(r => Writing(storeOf(r), branchOf(r), fs => MakeSymlink(fs, r.GetValue(target)!, r.GetValue(link)!)));
        return cmd;
    }

    private static int MakeSymlink(AgentFileSystem fs, string target, string link)
    {
        if (target.Length == 0) throw new AgentFsException(Errno.ENOENT, "the target of a symbolic link cannot be empty");
        if (target.Contains('\0')) throw new AgentFsException(Errno.EINVAL, $"symbolic link target {target.Replace("\0", "\\0")} contains a NUL byte");
        string name = NameOf(AgentFileSystem.NormalizePath(target));
        fs.CreateSymbolicLink(IntoDirectory(fs, link, name == "/" ? "" : name), target);
        return Program.ExitOk;
    }

    private static Command Chmod(Func<ParseResult, string> storeOf, Func<ParseResult, string> branchOf)
    {
        var mode = new Argument<string>("MODE") { Description = "Octal mode, e.g. 644, 0755, 1777" };
        var path = PathArgument();
        var cmd = new Command("chmod", "Change the permission bits of a file or directory") { mode, path };
        cmd.SetAction(r =>
        {
            uint bits = ParseOctalMode(r.GetValue(mode)!);
            return Writing(storeOf(r), branchOf(r), fs =>
            {
                fs.SetMode(r.GetValue(path)!, bits);
                return Program.ExitOk;
            });
        });
        return cmd;
    }

    internal static uint ParseOctalMode(string s)
    {
        if (s.Length is < 1 or > 4 || s.Any(c => c is < '0' or > '7'))
            throw new AgentFsException(Errno.EINVAL, $"invalid mode '{s}': use 1 to 4 octal digits, like 644 or 0755");
        return Convert.ToUInt32(s, 8);
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private static int Reading(string storePath, string branch, Func<AgentFileSystem, int> work)
    {
        using var store = StoreAccess.OpenForReading(storePath);
        using var fs = store.OpenFileSystem(branch, readOnly: true);
        return work(fs);
    }

    private static int Writing(string storePath, string branch, Func<AgentFileSystem, int> work)
    {
        using var store = StoreAccess.OpenForWriting(storePath);
        using var fs = store.OpenFileSystem(branch, readOnly: false);
        return work(fs);
    }

    // Names within paths the library has normalised (AgentFileSystem.NormalizePath): what mv, ln and mkdir mean by them.
    private static string Join(string dir, string name) => dir == "/" ? "/" + name : dir + "/" + name;

    private static string NameOf(string normalized) => normalized == "/" ? "/" : normalized[(normalized.LastIndexOf('/') + 1)..];

    private static string ParentOf(string normalized)
    {
        int i = normalized.LastIndexOf('/');
        return i <= 0 ? "/" : normalized[..i];
    }

    /// <summary>Like mv and ln: when the destination is an existing directory (or a link to one), the name goes inside it.</summary>
    private static string IntoDirectory(AgentFileSystem fs, string dst, string name)
    {
        string normalized = AgentFileSystem.NormalizePath(dst);
        if (name.Length == 0 || name == "/") return normalized;
        return fs.Exists(normalized, followSymlinks: true) && fs.GetAttributes(normalized, followSymlinks: true).IsDirectory
            ? Join(normalized, name)
            : normalized;
    }
}
