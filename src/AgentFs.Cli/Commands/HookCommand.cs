using System.CommandLine;
using System.Text.Json;
using AgentFs.Cli.Hooks;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs hook install claude-code|opencode [--store STORE] [--branch B] [--per turn|tool] [--dir DIR]
/// [--settings FILE] [--command CMD] [--json]</c>: writes the harness's own hook configuration so that after every
/// turn (or tool call) the session is checkpointed with the turn's metadata; <c>agentfs hook run</c> is what the
/// hook calls (<see cref="HookRunner"/>; Program.Main runs it before this tree is built, this definition is for
/// --help). Claude Code: <see cref="ClaudeCodeSettings"/>; OpenCode: <see cref="OpenCodePlugin"/>.
/// </summary>
internal static class HookCommand
{
    public static Command Create(CommandIo io) => new("hook", "Checkpoint the session after every agent turn, from the agent harness's own hooks")
    {
        Install(io),
        RunDefinition(io),
    };

    private static Command Install(CommandIo io)
    {
        var harness = new Argument<string>("HARNESS") { Description = "The agent harness: claude-code or opencode" };
        harness.AcceptOnlyFromAmong(HookHarness.Names);
        var store = new Option<string?>("--store") { Description = "Checkpoint this store (default: the mounted or sandboxed session the agent works in)", HelpName = "STORE" };
        var branch = new Option<string?>("--branch", "-b") { Description = "Branch of --store (default: the one mounted there, else main)", HelpName = "B" };
        var per = new Option<string>("--per")
        {
            Description = "Checkpoint after every turn, or also after every tool call",
            HelpName = "turn|tool",
            DefaultValueFactory = _ => HookHarness.PerTurn,
        };
        per.AcceptOnlyFromAmong(HookHarness.PerTurn, HookHarness.PerTool);
        var dir = new Option<string?>("--dir") { Description = "The project directory (default: the current directory)", HelpName = "DIR" };
        var settings = new Option<string?>("--settings")
        {
            Description = "The file to write (default: DIR/.claude/settings.json, or DIR/.opencode/plugins/agentfs-checkpoint.js)",
            HelpName = "FILE",
        };
        var command = new Option<string?>("--command")
        {
            Description = "How the hook starts agentfs: the program and its first arguments, separated by spaces (default: 'agentfs' when it is on PATH, else this program)",
            HelpName = "CMD",
        };
        var json = CommonOptions.Json();
        var cmd = new Command("install", "Write the harness's hook configuration (idempotent; other settings are kept)")
        {
            harness, store, branch, per, dir, settings, command, json,
        };
        cmd.SetAction(r =>
        {
            string name = r.GetValue(harness)!;
            string perValue = r.GetValue(per)!;
            string? storePath = r.GetValue(store) is { } sp ? Path.GetFullPath(StoreAccess.CheckPath(sp, "store path")) : null;
            if (storePath != null && !File.Exists(storePath))
                throw new AgentFsException(Errno.ENOENT, $"store {storePath} does not exist; create it with 'agentfs init {storePath} --base DIR' or pass another --store");
            string? branchName = r.GetValue(branch);
            if (branchName != null && storePath == null)
                throw new AgentFsException(Errno.EINVAL, "--branch needs --store (without it the hook checkpoints the branch mounted where the agent works)");
            if (storePath != null && branchName != null)
            {
                using var s = StoreAccess.OpenForReading(storePath);
                s.GetBranch(branchName);
            }
            string project = Path.GetFullPath(r.GetValue(dir) ?? Environment.CurrentDirectory);
            if (!Directory.Exists(project))
                throw new AgentFsException(Errno.ENOENT, $"project directory {project} does not exist; pass the agent's project with --dir");
            var argv = new List<string>(r.GetValue(command) is { } c && c.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } words
                ? words : DefaultCommand());
            argv.AddRange(["hook", "run", "--harness", name]);
            if (storePath != null) argv.AddRange(["--store", storePath]);
            if (branchName != null) argv.AddRange(["--branch", branchName]);

            string file;
            bool changed;
            string[] events;
            if (name == HookHarness.ClaudeCode)
            {
                file = Path.GetFullPath(r.GetValue(settings) ?? Path.Combine(project, ".claude", "settings.json"));
                (events, changed) = ClaudeCodeSettings.Install(file, ShellCommand(argv), perValue);
            }
            else
            {
                file = Path.GetFullPath(r.GetValue(settings) ?? Path.Combine(project, ".opencode", "plugins", OpenCodePlugin.FileName));
                changed = OpenCodePlugin.Install(file, argv, perValue);
                events = perValue == HookHarness.PerTool ? ["session.idle", "tool.execute.after"] : ["session.idle"];
            }
            string commandLine = ShellCommand(argv);
            if (r.GetValue(json))
            {
                io.Out.Write(JsonSerializer.Serialize(new HookInstallJson(name, file, changed, perValue, events, commandLine, storePath, branchName), HookJson.Default.HookInstallJson));
                io.Out.Write('\n');
            }
            else
            {
                string target = storePath != null ? $"store {storePath}{(branchName != null ? $" branch {branchName}" : "")}" : "the mounted or sandboxed session containing the agent's working directory";
                io.Out.WriteLine($"{(changed ? "installed" : "already installed:")} the {name} hook in {file} ({string.Join(", ", events)}): " +
                                 $"after every {(perValue == HookHarness.PerTool ? "tool call and turn" : "turn")}, a checkpoint of {target} when it changed");
            }
            return Program.ExitOk;
        });
        return cmd;
    }

    /// <summary>The definition of <c>hook run</c> for --help (and in-process callers); Program.Main runs it through
    /// <see cref="HookRunner"/> directly.</summary>
    private static Command RunDefinition(CommandIo io)
    {
        Option<string?>[] options =
        [
            new("--harness") { Description = "claude-code or opencode", HelpName = "NAME" },
            new("--store") { Description = "The store to checkpoint (default: the session containing the working directory)", HelpName = "STORE" },
            new("--branch", "-b") { Description = "Its branch", HelpName = "B" },
        ];
        var cmd = new Command("run", "What the installed hook calls: reads the harness's JSON on stdin and checkpoints the session if it changed (always exits 0; problems go to the hook log)");
        foreach (var o in options) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var args = new List<string>();
            foreach (var o in options)
                if (r.GetValue(o) is { } v) args.AddRange([o.Name, v]);
            return HookRunner.Run(args.ToArray(), io.Stdin, io.Error);
        });
        return cmd;
    }

    /// <summary>'agentfs' when it is on PATH (also inside agentfs run, where it always is), else this program.</summary>
    private static string[] DefaultCommand()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, "agentfs"))) return ["agentfs"];
        string? process = Environment.ProcessPath;
        if (process != null && Path.GetFileNameWithoutExtension(process) != "dotnet") return [process];
        // Run as 'dotnet AgentFs.Cli.dll' (./agentfs from a checkout): the same, by absolute paths.
        string dll = Path.Combine(AppContext.BaseDirectory, "AgentFs.Cli.dll");
        return [process ?? "dotnet", dll];
    }

    /// <summary>One POSIX shell command line (Claude Code runs hook commands with the shell): each word quoted when it needs to be.</summary>
    internal static string ShellCommand(IEnumerable<string> argv) => string.Join(' ', argv.Select(Quote));

    private static string Quote(string word) =>
        word.Length > 0 && word.All(ch => char.IsAsciiLetterOrDigit(ch) || "-_./=:@%+,".Contains(ch)) ? word : "'" + word.Replace("'", "'\\''") + "'";
}
