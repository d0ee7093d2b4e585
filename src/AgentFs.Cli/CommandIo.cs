using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Spectre.Console;

namespace AgentFs.Cli;

/// <summary>
/// The standard streams of one run of the command. Commands write text through <see cref="Out"/>, raw
/// bytes through <see cref="Stdout"/> (after <see cref="FlushText"/>), and never touch <see cref="Console"/>,
/// so the whole command can run in-process (tests, an orchestrator) with streams of its own.
/// </summary>
public sealed class CommandIo
{
    private IAnsiConsole? _ansi;

    /// <param name="stdin">What <c>fs write</c> reads.</param>
    /// <param name="stdout">Where data goes: text, JSON, or the raw bytes of <c>fs cat</c>.</param>
    /// <param name="stderr">Where the one-line error of a failed command goes.</param>
    /// <param name="stdoutIsTerminal">True to draw tables with Spectre.Console; false for plain, script-friendly text.</param>
    public CommandIo(Stream stdin, Stream stdout, TextWriter stderr, bool stdoutIsTerminal = false)
    {
        Stdin = stdin;
        Stdout = stdout;
        Error = stderr;
        IsTerminal = stdoutIsTerminal;
        Out = new StreamWriter(stdout, new UTF8Encoding(false), 16 * 1024, leaveOpen: true) { NewLine = "\n" };
    }

    public Stream Stdin { get; }
    public Stream Stdout { get; }
    public TextWriter Out { get; }
    public TextWriter Error { get; }
    public bool IsTerminal { get; }

    /// <summary>The process's own streams; tables only when stdout is a terminal.</summary>
    public static CommandIo FromConsole() => new(
        Console.OpenStandardInput(),
        Console.OpenStandardOutput(),
        new StreamWriter(Console.OpenStandardError(), new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" },
        stdoutIsTerminal: !Console.IsOutputRedirected);

    /// <summary>Flushes buffered text so that raw bytes written to <see cref="Stdout"/> come after it.</summary>
    public void FlushText() => Out.Flush();

    /// <summary>A Spectre console over <see cref="Out"/>; use only when <see cref="IsTerminal"/>.</summary>
    public IAnsiConsole Ansi => _ansi ??= AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Out),
        Ansi = AnsiSupport.Detect,
        ColorSystem = ColorSystemSupport.Detect,
        Interactive = InteractionSupport.No,
    });

    /// <summary>Writes one JSON document (snake_case keys, every key always present) and a newline. The type info comes
    /// from <see cref="CliJson.Document"/> (generated code: the published command is a Native AOT program).</summary>
    public void WriteJson<T>(T value, JsonTypeInfo<T> type)
    {
        Out.Write(JsonSerializer.Serialize(value, type));
        Out.Write('\n');
    }
}
