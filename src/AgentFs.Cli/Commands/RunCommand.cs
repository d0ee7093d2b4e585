using System.CommandLine;
using System.Runtime.InteropServices;
using AgentFs.Sandbox;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs run STORE [--branch B] [--at PATH] [--bind P]... [--ro P]... [--hide P]... [--net none|host|allow=HOST[:PORT],...]
/// [--user USER[:GROUP]]
/// [--env K=V]... [--unset-env K]... [--checkpoint-on-exit [-m MSG]] -- CMD [ARGS...]</c>: runs CMD in a
/// sandbox where the branch is mounted at PATH (default: the base directory's path) and the rest of the host is
/// read-only (src/AgentFs.Sandbox/SandboxPolicy.cs lists everything it allows). Exits with CMD's exit code
/// (127: not found; 128+N: killed by signal N). SIGTERM, SIGHUP and a SIGINT not sent by the terminal are passed
/// on to every process of the sandbox, and what still runs 5 s later is killed; either way every process of it
/// ends, the last writes are committed and the branch is free.
/// At the end a summary on stderr: what changed since the base, the checkpoint, how to review and apply
/// (nothing when the branch has no change and no checkpoint was asked for), and with --net allow= how many
/// connections the proxy allowed and refused; each one is a line of STORE.log (<see cref="MountLog"/>), the log
/// beside the store where mounts report too.
/// </summary>
internal static class RunCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var branch = CommonOptions.Branch();
        var at = new Option<string?>("--at") { Description = "Where the branch appears in the sandbox (default: the base directory's path)", HelpName = "PATH" };
        var bind = new Option<string[]>("--bind") { Description = "Make a host path writable inside (repeatable)", HelpName = "PATH" };
        var ro = new Option<string[]>("--ro") { Description = "Keep a path read-only, also inside a writable one (repeatable)", HelpName = "PATH" };
        var hide = new Option<string[]>("--hide") { Description = "Replace a path with an empty one, e.g. ~/.ssh (repeatable)", HelpName = "PATH" };
        var net = new Option<string>("--net")
        {
            Description = "Network: none (loopback only, the default), host (shared, e.g. for a model API), or " +
                "allow=HOST[:PORT],... (only those, through an HTTP(S) proxy of agentfs run: HTTP_PROXY/HTTPS_PROXY are set " +
                "inside; HOST alone allows ports 80 and 443, *.example.com the names below it; a name never leads to " +
                "loopback or link-local addresses, allow the address for those; each attempt is logged in STORE.log)",
            HelpName = "none|host|allow=HOST[:PORT],...",
            DefaultValueFactory = _ => "none",
        };
        var user = new Option<string?>("--user")
        {
            Description = "Run the command as this user and group inside (a user namespace maps them to you: it gains nothing), for servers that refuse root, e.g. PostgreSQL",
            HelpName = "USER[:GROUP]",
        };
        var env = new Option<string[]>("--env") { Description = "Set a variable inside (repeatable)", HelpName = "K=V" };
        var unsetEnv = new Option<string[]>("--unset-env") { Description = "Remove a variable inside (repeatable)", HelpName = "K" };
        var checkpointOnExit = new Option<bool>("--checkpoint-on-exit") { Description = "Checkpoint the branch when the command ends" };
        var message = new Option<string?>("--message", "-m") { Description = "Message of the checkpoint taken on exit", HelpName = "MESSAGE" };
        var command = new Argument<string[]>("COMMAND") { Description = "The command and its arguments, after --", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("run", "Run a command in a sandbox where the branch is the only thing it can change")
        {
            store, branch, at, bind, ro, hide, net, user, env, unsetEnv, checkpointOnExit, message, command,
        };
        cmd.SetAction(r =>
        {
            var set = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string item in r.GetValue(env) ?? [])
            {
                int eq = item.IndexOf('=');
                if (eq <= 0)
                    throw new AgentFsException(Errno.EINVAL, $"--env '{item}' is not K=V; write it like --env CI=1");
                set[item[..eq]] = item[(eq + 1)..];
            }
            string netValue = r.GetValue(net)!;
            var (mode, allowList) = netValue switch
            {
                "none" => (NetworkMode.None, null),
                "host" => (NetworkMode.Host, null),
                _ when netValue.StartsWith("allow=", StringComparison.Ordinal) => (NetworkMode.Allow, NetworkAllowList.Parse(netValue[6..])),
                _ => throw new AgentFsException(Errno.EINVAL, $"--net '{netValue}' is not none, host or allow=HOST[:PORT],...; e.g. --net allow=api.example.com"),
            };
            string storePath = Path.GetFullPath(StoreAccess.CheckPath(r.GetValue(store)!, "store path"));
            using var netLog = mode == NetworkMode.Allow && File.Exists(storePath) ? MountLog.TryOpen(storePath) : null;
            string branchName = r.GetValue(branch)!;
            var options = new SandboxOptions
            {
                StorePath = storePath,
                Store = StoreTuning.FromEnvironment(),
                Branch = branchName,
                MountPath = r.GetValue(at),
                Command = r.GetValue(command)!,
                WritablePaths = r.GetValue(bind) ?? [],
                ReadOnlyPaths = r.GetValue(ro) ?? [],
                HiddenPaths = r.GetValue(hide) ?? [],
                Network = mode,
                AllowedDestinations = allowList,
                NetworkLog = netLog == null ? null : attempt => netLog.Write($"net: branch {branchName}: {attempt}"),
                User = r.GetValue(user) is { } u ? SandboxUser.Parse(u) : null,
                SetEnvironment = set,
                UnsetEnvironment = r.GetValue(unsetEnv) ?? [],
                AgentfsCommand = SelfCommand(),
                Log = m => { try { io.Error.WriteLine($"agentfs: {m}"); } catch (IOException) { } },
            };
            return Run(io, options, r.GetValue(checkpointOnExit), r.GetValue(message));
        });
        return cmd;
    }

    private static int Run(CommandIo io, SandboxOptions options, bool checkpointOnExit, string? message)
    {
        SandboxedProcess? sandbox = null;
        int signal = 0;
        void StopOn(PosixSignalContext c)
        {
            c.Cancel = true;
            // Ctrl-C from the terminal reached the command already (same process group): it decides, as in a
            // shell. A SIGINT sent to agentfs run alone (kill -INT) stops the sandbox, like SIGTERM and SIGHUP.
            if (c.Signal == PosixSignal.SIGINT && Sandbox.Sandbox.TerminalSignalsReachCommand()) return;
            int number = c.Signal switch { PosixSignal.SIGINT => 2, PosixSignal.SIGHUP => 1, _ => 15 };
            Interlocked.CompareExchange(ref signal, number, 0);
            Volatile.Read(ref sandbox)?.Stop(number);
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, StopOn);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, StopOn);
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, StopOn);

        // A full fence between publishing the handle and reading the signal (the handler does the reverse): a
        // signal that comes while Start returns is then seen by one side or the other, never by neither.
        Interlocked.Exchange(ref sandbox, Sandbox.Sandbox.Start(options));
        int exitCode;
        string summary;
        using (sandbox)
        {
            if (Volatile.Read(ref signal) is int early and not 0) sandbox.Stop(early);
            exitCode = sandbox.WaitForExit();
            summary = Summary(sandbox, options, checkpointOnExit, message);
        }
        // Written once the branch is free, so the commands it suggests work at once.
        io.Error.Write(summary);
        if (options.Network == NetworkMode.Allow)
        {
            var (allowed, refused) = sandbox.NetworkAttempts;
            io.Error.WriteLine($"agentfs: network: {allowed} connection{(allowed == 1 ? "" : "s")} allowed, {refused} refused" +
                (options.NetworkLog != null ? $" (each in {MountLog.PathFor(options.StorePath)})" : $" ({MountLog.PathFor(options.StorePath)} cannot be written: not logged)"));
        }
        return exitCode;
    }

    /// <summary>What changed since the base, the checkpoint taken on exit, and how to go on.</summary>
    private static string Summary(SandboxedProcess sandbox, SandboxOptions options, bool checkpointOnExit, string? message)
    {
        var s = sandbox.Store;
        string b = sandbox.Branch, storeArg = Quote(s.Path), branchArg = b == "main" ? "" : $" --branch {Quote(b)}";
        long files = 0, binary = 0, added = 0, deleted = 0;
        foreach (var f in s.DiffStat("base", b))
        {
            files++;
            // A binary file's counts are its sizes in bytes (as git's --stat shows them), not lines.
            if (f.IsBinary) { binary++; continue; }
            added += f.Insertions;
            deleted += f.Deletions;
        }
        var sb = new System.Text.StringBuilder();
        string? checkpoint = checkpointOnExit
            ? $"; checkpoint {s.Checkpoint(b, message ?? $"agentfs run: {string.Join(' ', options.Command)}").Id}"
            : null;
        // A branch the base still describes, with no checkpoint asked for: nothing to say (like any command).
        if (files == 0 && checkpoint == null) return "";
        sb.Append($"agentfs: branch {b} of {s.Path}: {files} file{(files == 1 ? "" : "s")} changed since the base{(binary > 0 ? $" ({binary} binary)" : "")}, +{added} -{deleted} lines{checkpoint}\n");
        if (files > 0)
            sb.Append($"agentfs: review: agentfs diff {storeArg}{branchArg} | less; apply: agentfs apply {storeArg} {Quote(s.BaseDirectoryPath)}{branchArg}; " +
                $"or a patch: agentfs patch {storeArg}{branchArg} > change.patch\n");
        return sb.ToString();
    }

    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "/._-+=:@,".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>How this process was started (apphost, or dotnet and the dll), to run agentfs inside the sandbox.</summary>
    private static IReadOnlyList<string>? SelfCommand()
    {
        string? self = Environment.ProcessPath;
        string entry = Environment.GetCommandLineArgs()[0];
        if (self == null) return null;
        if (Path.GetFileName(entry) == "AgentFs.Cli.dll" && Path.GetFileNameWithoutExtension(self) == "dotnet") return [self, entry];
        if (Path.GetFileName(self) is "agentfs" or "AgentFs.Cli") return [self];
        return null;
    }
}
