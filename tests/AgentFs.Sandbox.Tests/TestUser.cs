using System.Diagnostics;

namespace AgentFs.Sandbox.Tests;

/// <summary>
/// A throwaway ordinary user (useradd; userdel at the end) that runs `agentfs` from a copy of this checkout's
/// build in a directory it can read (the checkout itself may lie where only root can reach it). It may be
/// given /dev/fuse for the test's duration (<see cref="GrantFuseDevice"/>): the device's owner and mode are
/// restored at the end, whatever happened. Processes it started are killed at the end.
/// </summary>
public sealed class TestUser : IDisposable
{
    private const string FuseDevice = "/dev/fuse";
    private readonly List<int> _started = [];
    private string? _fuseDeviceWas; // "uid:gid:mode" before the test changed it

    /// <summary>Creates the user with its home and the program below <paramref name="root"/>, and gives it
    /// <paramref name="root"/> and everything in it.</summary>
    public TestUser(string root)
    {
        Name = "afs-" + Convert.ToHexString(Guid.NewGuid().ToByteArray())[..10].ToLowerInvariant();
        Home = Path.Combine(root, "home");
        Directory.CreateDirectory(Home);
        Run("useradd", "--no-create-home", "--home-dir", Home, "--shell", "/bin/bash", "--user-group", Name);
        Uid = int.Parse(Run("id", "-u", Name).Trim());
        Gid = int.Parse(Run("id", "-g", Name).Trim());

        // The built program (./agentfs builds it and names it in its stamp), copied where the user can read it.
        string stamp = Path.Combine(SandboxProject.RepoRoot, ".agentfs-build", "stamp");
        string dll = File.ReadLines(stamp).First();
        ProgramDirectory = Path.Combine(root, "agentfs-program");
        Directory.CreateDirectory(ProgramDirectory);
        foreach (string file in Directory.EnumerateFiles(Path.GetDirectoryName(dll)!, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(ProgramDirectory, Path.GetRelativePath(Path.GetDirectoryName(dll)!, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        Program = Path.Combine(ProgramDirectory, Path.GetFileName(dll));
        File.SetUnixFileMode(root, (UnixFileMode)0x1ED); // 0755: the user's processes pass through it
        Run("chown", "-R", $"{Uid}:{Gid}", root);
    }

    public string Name { get; }
    public int Uid { get; }
    public int Gid { get; }
    public string Home { get; }
    public string ProgramDirectory { get; }

    /// <summary>The program: AgentFs.Cli (native, Native AOT) or AgentFs.Cli.dll (run with dotnet); see <see cref="ProgramCommand"/>.</summary>
    public string Program { get; }

    /// <summary>How to start <see cref="Program"/>.</summary>
    public string[] ProgramCommand => Program.EndsWith(".dll", StringComparison.Ordinal) ? ["dotnet", Program] : [Program];

    /// <summary>The user's control directory (agentfs run's socket, the registry of `agentfs status`).</summary>
    public string RuntimeDirectory => $"/tmp/agentfs-{Uid}";

    /// <summary>Makes /dev/fuse the user's alone (mode 0600, owner the user) until <see cref="Dispose"/>.</summary>
    public void GrantFuseDevice()
    {
        SaveFuseDevice();
        Run("chown", $"{Uid}:0", FuseDevice);
        File.SetUnixFileMode(FuseDevice, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>Makes /dev/fuse root's alone (mode 0600, as on these machines) until <see cref="Dispose"/>.</summary>
    public void DenyFuseDevice()
    {
        SaveFuseDevice();
        Run("chown", "0:0", FuseDevice);
        File.SetUnixFileMode(FuseDevice, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private void SaveFuseDevice() => _fuseDeviceWas ??= Run("stat", "-c", "%u:%g:%a", FuseDevice).Trim();

    /// <summary>agentfs ARGS as the user, to its end, in <paramref name="cwd"/>.</summary>
    public RunResult Agent(string cwd, params string[] args) => Wait(Start(cwd, args), args);

    /// <summary>Any command as the user, to its end.</summary>
    public RunResult Command(string cwd, params string[] command) => Wait(StartCommand(cwd, [], command), command);

    /// <summary>Starts agentfs ARGS as the user (setpriv execs it: the pid is agentfs's own); stdin is closed.</summary>
    public Process Start(string cwd, params string[] args) => StartCommand(cwd, [], [.. ProgramCommand, .. args]);

    /// <summary>Starts <paramref name="command"/> as the user, after <paramref name="prefix"/> (run as root,
    /// e.g. a namespace to run in), with the user's own environment basics.</summary>
    public Process StartCommand(string cwd, string[] prefix, string[] command)
    {
        var psi = new ProcessStartInfo(prefix.Length > 0 ? prefix[0] : "setpriv")
        {
            WorkingDirectory = cwd,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (string a in prefix.Skip(1)) psi.ArgumentList.Add(a);
        if (prefix.Length > 0) psi.ArgumentList.Add("setpriv");
        foreach (string a in (string[])["--reuid", Uid.ToString(), "--regid", Gid.ToString(), "--init-groups", "--"]) psi.ArgumentList.Add(a);
        foreach (string a in command) psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = Home;
        psi.Environment["USER"] = psi.Environment["LOGNAME"] = Name;
        psi.Environment.Remove("XDG_RUNTIME_DIR");
        psi.Environment.Remove("AGENTFS_RUNTIME_DIR");
        psi.Environment["GIT_AUTHOR_NAME"] = psi.Environment["GIT_COMMITTER_NAME"] = "t";
        psi.Environment["GIT_AUTHOR_EMAIL"] = psi.Environment["GIT_COMMITTER_EMAIL"] = "t@example.com";
        var p = Process.Start(psi)!;
        lock (_started) _started.Add(p.Id);
        return p;
    }

    private static RunResult Wait(Process p, string[] args)
    {
        using (p)
        {
            p.StandardInput.Close();
            var err = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEndAsync();
            if (!p.WaitForExit(120_000))
            {
                p.Kill(true);
                throw new Xunit.Sdk.XunitException($"timed out: {string.Join(' ', args)}");
            }
            p.WaitForExit();
            return new RunResult(p.ExitCode, output.Result, err.Result);
        }
    }

    /// <summary>Runs a command as root (the test) and returns its stdout; fails the test when it fails.</summary>
    public static string Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new Xunit.Sdk.XunitException($"{program} {string.Join(' ', args)}: exit {p.ExitCode}: {err.Result}");
        return output;
    }

    public void Dispose()
    {
        try
        {
            lock (_started)
                foreach (int pid in _started)
                    try
                    {
                        // Only our own still running (a pid may have been reused after it ended).
                        using var p = Process.GetProcessById(pid);
                        if (File.ReadAllText($"/proc/{pid}/status").Contains($"\nUid:\t{Uid}\t", StringComparison.Ordinal)) p.Kill(true);
                    }
                    catch (Exception) { }
        }
        finally
        {
            try
            {
                if (_fuseDeviceWas is { } was)
                {
                    string[] f = was.Split(':');
                    Run("chown", $"{f[0]}:{f[1]}", FuseDevice);
                    File.SetUnixFileMode(FuseDevice, (UnixFileMode)Convert.ToInt32(f[2], 8));
                }
            }
            finally
            {
                try { Directory.Delete(RuntimeDirectory, true); } catch (Exception) { }
                try { Run("userdel", Name); } catch (Exception) { }
                try { Run("groupdel", Name); } catch (Exception) { }
            }
        }
    }
}
