using System.CommandLine;
using AgentFs.Cli.Output;

namespace AgentFs.Cli.Commands;

/// <summary><c>agentfs init STORE --base DIR [--chunk-size N]</c>: creates a store over a directory that is never written.</summary>
internal static class InitCommand
{
    public static Command Create(CommandIo io)
    {
        var store = CommonOptions.Store();
        var baseDir = new Option<string>("--base")
        {
            Description = "The directory the store overlays (read, never written)",
            HelpName = "DIR",
            Required = true,
        };
        var chunkSize = new Option<int>("--chunk-size")
        {
            Description = "Bytes per stored chunk of file data: a power of two from 4096 to 1048576",
            HelpName = "N",
            DefaultValueFactory = _ => new StoreOptions().ChunkSize,
        };
        var json = CommonOptions.Json();
        var cmd = new Command("init", "Create a store over a base directory (the directory is never written)")
        {
            store, baseDir, chunkSize, json,
        };
        cmd.SetAction(r => Run(io, r.GetValue(store)!, r.GetValue(baseDir)!, r.GetValue(chunkSize), r.GetValue(json)));
        return cmd;
    }

    private static int Run(CommandIo io, string storePath, string baseDir, int chunkSize, bool json)
    {
        StoreAccess.CheckPath(storePath, "store path");
        StoreAccess.CheckPath(baseDir, "base directory");
        using var store = AgentStore.Create(storePath, baseDir, StoreTuning.FromEnvironment() with { ChunkSize = chunkSize });
        if (json)
            io.WriteJson(new StoreJson(store.Path, store.BaseDirectoryPath, store.ChunkSize, store.StoreId, "main"), CliJson.Document.StoreJson);
        else
            io.Out.WriteLine($"created store {store.Path} over {store.BaseDirectoryPath} (branch main, chunk size {store.ChunkSize})");
        return Program.ExitOk;
    }
}
