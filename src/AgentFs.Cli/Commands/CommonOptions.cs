using System.CommandLine;

namespace AgentFs.Cli.Commands;

/// <summary>The arguments and options every command spells the same way.</summary>
internal static class CommonOptions
{
    public static Argument<string> Store() => new("STORE")
    {
        Description = "Path of the store file (the SQLite file made by 'agentfs init')",
    };

    public static Option<string> Branch() => new("--branch", "-b")
    {
        Description = "Branch to use",
        HelpName = "B",
        DefaultValueFactory = _ => "main",
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print JSON instead of text (shapes: src/AgentFs.Cli/README.md)",
    };

    /// <summary>--from (default base) and --to (default: the --branch head), as diff, patch and trace spell them.</summary>
    public static (Option<string> From, Option<string?> To) RefOptions() =>
    (
        new Option<string>("--from")
        {
            Description = "Older state: base, a checkpoint id or a branch name",
            HelpName = "REF",
            DefaultValueFactory = _ => "base",
        },
        new Option<string?>("--to")
        {
            Description = "Newer state: base, a checkpoint id or a branch name (default: the head of --branch)",
            HelpName = "REF",
        }
    );

    /// <summary>--include-vcs: keep what diff, patch, stat, trace and apply leave out by default.</summary>
    public static Option<bool> IncludeVcs() => new("--include-vcs")
    {
        Description = "Keep the changes inside version-control directories (.git, .hg, .jj; left out by default: git users move commits, not .git files)",
    };

    /// <summary>The one line saying how many changes inside version-control internals were left out (stderr, so stdout stays a patch).</summary>
    public static void ReportVcsLeftOut(CommandIo io, int count)
    {
        if (count == 0) return;
        io.Error.WriteLine($"agentfs: left out {count} change{(count == 1 ? "" : "s")} inside version-control directories (.git, .hg, .jj); " +
                           "--include-vcs keeps them ('agentfs patch --commits' and 'agentfs bundle' export the commits)");
    }
}
