using System.CommandLine;

namespace AgentFs.Cli.Commands;

/// <summary>
/// <c>agentfs bundle STORE OUT.bundle [--branch B] [--repo PATH] [--json]</c>: the agent's commits of a git repository
/// of the session as a git bundle (the branches with commits the base lacks, and HEAD; the base's commits as
/// prerequisites), which <c>git fetch OUT.bundle</c> takes in a clone of the base. OUT must not exist. Opens the
/// store read-only.
/// </summary>
internal static class BundleCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var output = new Argument<string>("OUT.bundle") { Description = "The bundle file to write (must not exist)" };
        var branch = CommonOptions.Branch();
        var repo = GitOptions.Repository();
        var json = CommonOptions.Json();
        var cmd = new Command("bundle", "Write the agent's git commits as a bundle that 'git fetch' takes")
        {
            store, output, branch, repo, json,
        };
        cmd.SetAction(r =>
        {
            string b = r.GetValue(branch)!;
            string full = Path.GetFullPath(StoreAccess.CheckPath(r.GetValue(output)!, "bundle path"));
            using var s = StoreAccess.OpenForReading(r.GetValue(store)!);
            var repository = s.WriteGitBundle(b, full, r.GetValue(repo));
            if (r.GetValue(json))
            {
                io.WriteJson(GitOptions.ToJson(repository, full), CliJson.Document.RepositoryJson);
                return Program.ExitOk;
            }
            var refs = repository.Branches.Select(x => $"{x.Name} (+{x.NewCommits})");
            io.Out.WriteLine($"wrote {full}: git repository {repository.DisplayPath}, {string.Join(", ", refs)}" +
                (repository.HeadBranch == null && repository.NewCommits > 0 ? $", HEAD (+{repository.NewCommits})" : "") +
                "; fetch it with: git fetch " + full + " 'refs/heads/*:refs/remotes/agent/*'");
            if (repository.HasUncommittedChanges)
                io.Error.WriteLine($"agentfs: note: repository {repository.DisplayPath} also has uncommitted changes, which a bundle does not carry " +
                                   "('agentfs patch --commits' ends with them; 'agentfs apply' writes them)");
            return Program.ExitOk;
        });
        return cmd;
    }
}
