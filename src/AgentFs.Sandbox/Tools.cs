namespace AgentFs.Sandbox;

/// <summary>Finds the programs the sandbox is built with, or says which package to install.</summary>
internal static class Tools
{
    public static string Find(string program, string package)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':'))
        {
            if (dir.Length == 0) continue;
            string candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        foreach (string dir in (string[])["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
            if (File.Exists(Path.Combine(dir, program))) return Path.Combine(dir, program);
        throw new AgentFsException(Errno.ENOENT, $"agentfs run needs {program}, which is not installed; install the package {package} (apt-get install {package})");
    }
}
