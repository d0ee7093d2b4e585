using System.CommandLine;
using System.Reflection;
using AgentFs.Cli.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs mcp STORE [--branch B]</c>: a Model Context Protocol server on stdin/stdout (JSON-RPC, one message per
/// line) whose tools let an agent checkpoint, roll back, branch, diff and inspect its own session (<see cref="SessionTools"/>).
/// It checks the store and branch before it starts (one line on stderr and exit 1 when they are wrong), then serves
/// until the client closes stdin. Nothing but protocol messages goes to stdout.
/// </summary>
internal static class McpCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var branch = CommonOptions.Branch();
        var cmd = new Command("mcp", "Serve the session's tools to an agent over MCP (stdio): checkpoint, rollback, branch, diff, log, ops, status")
        {
            store, branch,
        };
        cmd.SetAction(r =>
        {
            string storePath = r.GetValue(store)!, b = r.GetValue(branch)!;
            using (var s = StoreAccess.OpenForReading(storePath)) s.GetBranch(b);
            Serve(io, storePath, b);
            return Program.ExitOk;
        });
        return cmd;
    }

    private static void Serve(CommandIo io, string storePath, string branch)
    {
        var tools = new McpServerPrimitiveCollection<McpServerTool>();
        foreach (var tool in SessionTools.Create(storePath, branch)) tools.Add(tool);
        var options = new McpServerOptions
        {
            ServerInfo = new Implementation { Name = "agentfs", Title = "AgentFs session", Version = Version() },
            ServerInstructions =
                $"These tools act on branch {branch} of the AgentFs store {Path.GetFullPath(storePath)}: a copy-on-write filesystem that " +
                "records every file change of this session, whoever made it. Take a checkpoint before a risky step; rollback returns to " +
                "it; diff, log, ops and status show what changed, when and by which process.",
            ToolCollection = tools,
        };
        var transport = new StreamServerTransport(new UnclosedStream(io.Stdin), new UnclosedStream(io.Stdout), "agentfs");
        var server = McpServer.Create(transport, options);
        try { server.RunAsync().GetAwaiter().GetResult(); }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            transport.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static string Version()
    {
        string? v = typeof(McpCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return v == null ? "0" : v.Split('+')[0];
    }
}
