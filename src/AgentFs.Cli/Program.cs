using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using AgentFs.Cli.Commands;

namespace AgentFs.Cli;

/// <summary>
/// The <c>agentfs</c> command. <see cref="Run(string[], CommandIo)"/> is the whole command with streams
/// passed in, so tests and orchestrators can run it in-process; <see cref="Main"/> only binds it to the
/// process's streams.
///
/// Exit codes: 0 success; 1 a user error or a fault of the store (one line on stderr,
/// <c>agentfs: what happened and what to do</c>); 2 a usage error (one line on stderr naming it and
/// the help to read). Set AGENTFS_DEBUG=1 to get the stack trace of an error as well.
/// </summary>
public static class Program
{
    public const int ExitOk = 0, ExitError = 1, ExitUsage = 2;

    public static int Main(string[] args)
    {
        // Not a command for users: agentfs run, not root, starts it inside a sandbox's namespaces (--net allow=).
        if (args.Length > 0 && args[0] == Sandbox.SandboxNetworkHelper.Verb)
            return Sandbox.SandboxNetworkHelper.Run(args[1..], Console.In, Console.Out, Console.Error);
        // Nearly every command opens a store: SQLite loads on another core while the arguments are parsed.
        if (args.Length > 0 && !args[0].StartsWith('-')) AgentStore.PrepareInBackground();
        // What a harness's hook runs after every turn: straight there, without building the command tree, and never
        // an exit code the harness would act on (see HookRunner).
        if (args is ["hook", "run", ..] && !args.Contains("--help") && !args.Contains("-h"))
            return Hooks.HookRunner.Run(args[2..], Console.OpenStandardInput(), Console.Error, stdinIsTerminal: !Console.IsInputRedirected);
        return Run(args, CommandIo.FromConsole());
    }

    /// <summary>Runs the command over the given streams (stdout not a terminal: plain text, no tables).</summary>
    public static int Run(string[] args, Stream stdin, Stream stdout, TextWriter stderr) =>
        Run(args, new CommandIo(stdin, stdout, stderr));

    /// <summary>Runs the command; returns the exit code. Never throws.</summary>
    public static int Run(string[] args, CommandIo io)
    {
        try
        {
            var root = CreateRootCommand(io);
            // No response files: an argument like "@notes.txt" is a path in a store, not a file of arguments.
            var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
            if (parse.Action is not { ClearsParseErrors: true })
            {
                var errors = parse.Errors.Select(e => e.Message).ToList();
                if (UnknownOption(parse) is string option) errors.Insert(0, $"unknown option '{option}'");
                if (errors.Count > 0)
                {
                    ReportUsageError(parse, errors, io.Error);
                    return ExitUsage;
                }
            }
            return parse.Invoke(new InvocationConfiguration
            {
                Output = io.Out,
                Error = io.Error,
                EnableDefaultExceptionHandler = false,
            });
        }
        catch (AgentFsException e)
        {
            Report(io, e.Message, e);
            return ExitError;
        }
        catch (IOException e) when (IsBrokenPipe(e))
        {
            // The reader of our stdout went away (| head): nothing to report, like cat killed by SIGPIPE.
            return ExitError;
        }
        catch (Exception e)
        {
            Report(io, $"unexpected error: {e.GetType().Name}: {e.Message} (set AGENTFS_DEBUG=1 for the stack trace)", e);
            return ExitError;
        }
        finally
        {
            try { io.Out.Flush(); }
            catch (IOException) { }
            try { io.Error.Flush(); }
            catch (IOException) { }
        }
    }

    /// <summary>The command tree: every command of the tool.</summary>
    public static Command CreateRootCommand(CommandIo io)
    {
        var root = new Command("agentfs", "Copy-on-write filesystems for agent sessions, stored in one SQLite file over a read-only base directory.")
        {
            new HelpOption(),
            new VersionOption(),
            InitCommand.Create(io),
            FsCommand.Create(io),
            CheckpointCommand.Create(io),
            BranchCommand.Create(io),
            BranchesCommand.Create(io),
            LogCommand.Create(io),
            ReportCommand.Create(io),
            RollbackCommand.Create(io),
            MountCommand.Create(io),
            UnmountCommand.Create(io),
            StatusCommand.Create(io),
            BackupCommand.Create(io),
            RestoreCommand.Create(io),
            ExportCommand.Create(io),
            TraceCommand.Create(io),
            OpsCommand.Create(io),
            McpCommand.Create(io),
            DiffCommand.Create(io),
            PatchCommand.Create(io),
            BundleCommand.Create(io),
            ApplyCommand.Create(io),
            RunCommand.Create(io),
            StopCommand.Create(io),
            HookCommand.Create(io),
        };
        return root;
    }

    /// <summary>
    /// System.CommandLine takes an unknown "--flag" in an argument's place as the argument's value (a path
    /// named "--flag"). Like other tools we call that a usage error; "--" before it makes it a value.
    /// </summary>
    private static string? UnknownOption(ParseResult parse)
    {
        var afterDoubleDash = new HashSet<Token>(ReferenceEqualityComparer.Instance);
        bool seen = false;
        foreach (var t in parse.Tokens)
        {
            if (seen) afterDoubleDash.Add(t);
            else seen = t.Type == TokenType.DoubleDash;
        }
        for (SymbolResult? r = parse.CommandResult; r is CommandResult c; r = c.Parent)
            foreach (var a in c.Children.OfType<ArgumentResult>())
                foreach (var t in a.Tokens)
                    if (t.Value.Length > 1 && t.Value[0] == '-' && !afterDoubleDash.Contains(t)) return t.Value;
        return null;
    }

    private static void ReportUsageError(ParseResult parse, List<string> errors, TextWriter stderr)
    {
        var names = new List<string>();
        for (SymbolResult? r = parse.CommandResult; r is CommandResult c; r = c.Parent)
            names.Insert(0, c.Command.Name);
        string messages = string.Join("; ", errors.Select(e => OneLine(e).TrimEnd('.')).Distinct());
        stderr.WriteLine($"agentfs: {messages}; see '{string.Join(' ', names)} --help'");
    }

    private static void Report(CommandIo io, string message, Exception e)
    {
        io.Error.WriteLine("agentfs: " + OneLine(message));
        if (Environment.GetEnvironmentVariable("AGENTFS_DEBUG") is "1" or "true")
            io.Error.WriteLine(e.ToString());
    }

    /// <summary>Errors are one line: control characters (a NUL or newline in a path) are shown escaped.</summary>
    internal static string OneLine(string s)
    {
        var sb = new System.Text.StringBuilder(s.Length);
        foreach (char ch in s.Trim())
        {
            if (ch == '\n' || ch == '\r') sb.Append(' ');
            else if (ch == '\0') sb.Append("\\0");
            else if (char.IsControl(ch)) sb.Append($"\\x{(int)ch:x2}");
            else sb.Append(ch);
        }
        return sb.ToString();
    }

    private static bool IsBrokenPipe(IOException e) =>
        e.HResult == 32 || e.Message.Contains("Broken pipe", StringComparison.OrdinalIgnoreCase);
}
