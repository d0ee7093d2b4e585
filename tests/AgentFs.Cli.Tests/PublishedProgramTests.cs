using System.Text;
using System.Text.Json;

namespace AgentFs.Cli.Tests;

/// <summary>
/// The program ./agentfs publishes (Native AOT where clang is there, else ReadyToRun) against the command run
/// in-process, where every other test of this project runs it. Native AOT keeps only the code it can see and has
/// no reflection-based JSON: each --json output of the published program must be the same document as the
/// in-process one, key for key and kind for kind (values that are times, ids of the store or paths differ).
/// </summary>
public sealed class PublishedProgramTests : IClassFixture<ScriptFixture>, IDisposable
{
    private readonly ScriptFixture _script;
    private readonly string _dir = Directory.CreateTempSubdirectory("agentfs-published-").FullName;

    public PublishedProgramTests(ScriptFixture script) => _script = script;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>Runs the published program, or the command in-process.</summary>
    private CliResult Run(bool published, string? stdin, params string[] args) =>
        published ? _script.Run(null, stdin, args) : Cli.RunWithInput(stdin ?? "", args);

    /// <summary>Makes a store over a small base in <paramref name="name"/>, with a change, a checkpoint and a
    /// second branch, with the published program or in-process; returns its path.</summary>
    private string Prepare(string name, bool published)
    {
        CliResult run(string[] args) => Run(published, null, args);
        string root = Path.Combine(_dir, name);
        string baseDir = Path.Combine(root, "base");
        Directory.CreateDirectory(Path.Combine(baseDir, "src"));
        File.WriteAllText(Path.Combine(baseDir, "README"), "hello\n");
        File.WriteAllText(Path.Combine(baseDir, "src", "a.c"), "int a;\n");
        string store = Path.Combine(root, "s.agentfs");
        run(["init", store, "--base", baseDir]).Ok();
        run(["fs", store, "mkdir", "docs"]).Ok();
        Run(published, "changed \u00e9\n", "fs", store, "write", "README").Ok();
        run(["checkpoint", store, "-m", "first", "--meta", "task=1"]).Ok();
        run(["branch", store, "other", "--from", "1"]).Ok();
        return store;
    }

    /// <summary>Every command that prints a --json document; {S} is the store, {D} its directory, {B} the base.</summary>
    public static TheoryData<string> Commands => new()
    {
        "init {D}/new.agentfs --base {B} --json", "log {S} --json", "branches {S} --json", "diff {S} --json",
        "diff {S} --stat --json", "fs {S} stat README --json", "fs {S} ls src --json", "fs {S} cat README --json",
        "trace {S} --json", "checkpoint {S} -m again --json", "rollback {S} 1 --json", "branch {S} third --from main --json",
        "backup {S} {D}/backup.agentfs --json", "ops {S} --json", "ops {S} --summary --json",
        "patch {S} -o {D}/change.patch --json", "export {S} {D}/tree.tar --json", "apply {S} {B} --dry-run --json", "status --json",
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void Each_json_output_of_the_published_program_is_the_in_process_document(string command)
    {
        string storeA = Prepare("a", published: true);
        string storeB = Prepare("b", published: false);
        static string[] Args(string command, string store)
        {
            string dir = Path.GetDirectoryName(store)!;
            return command.Replace("{S}", store).Replace("{D}", dir).Replace("{B}", Path.Combine(dir, "base")).Split(' ');
        }

        var published = Run(true, null, Args(command, storeA));
        var inProcess = Run(false, null, Args(command, storeB));
        Assert.True(inProcess.ExitCode == 0, inProcess.ToString());
        Assert.True(published.ExitCode == 0, published.ToString());
        Assert.Equal(Shape(inProcess.Stdout), Shape(published.Stdout));
    }

    [Fact]
    public void Where_clang_is_installed_the_published_program_is_native()
    {
        // ./agentfs falls back to ReadyToRun when the Native AOT publish fails: that must not go unnoticed where it
        // should work (CI installs clang). AGENTFS_NO_AOT=1 asks for ReadyToRun on purpose.
        if (Environment.GetEnvironmentVariable("AGENTFS_NO_AOT") == "1") return;
        bool clang = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Any(d => File.Exists(Path.Combine(d, "clang")) || File.Exists(Path.Combine(d, "clang-14")));
        Assert.True(clang, "neither clang nor clang-14 is on PATH: scripts/test.sh installs clang, which ./agentfs needs to publish the command as a native program");
        string stamp = Path.Combine(_script.RepoRoot, ".agentfs-build", "stamp");
        string program = File.ReadLines(stamp).First();
        Assert.False(program.EndsWith(".dll", StringComparison.Ordinal),
            $"./agentfs published {program} (ReadyToRun) although clang is there: the Native AOT publish failed; see {_script.RepoRoot}/.agentfs-build/build.log");
        var version = _script.Run(null, null, "--version").Ok();
        Assert.NotEmpty(version.Stdout.Trim());
    }

    /// <summary>Each JSON document of the output (one, or one per line) as its keys and value kinds, in order.</summary>
    private static string Shape(string output)
    {
        var sb = new StringBuilder();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(output), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            sb.Append(reader.TokenType switch
            {
                JsonTokenType.PropertyName => reader.GetString() + ":",
                JsonTokenType.String => "s,",
                JsonTokenType.Number => "n,",
                JsonTokenType.True or JsonTokenType.False => "b,",
                JsonTokenType.Null => "null,",
                JsonTokenType.StartObject => "{",
                JsonTokenType.EndObject => "},",
                JsonTokenType.StartArray => "[",
                JsonTokenType.EndArray => "],",
                _ => "?",
            });
        }
        Assert.True(sb.Length > 0, "no JSON in: " + output);
        return sb.ToString();
    }
}
