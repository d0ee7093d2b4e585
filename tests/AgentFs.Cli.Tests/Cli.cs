using System.Text;

namespace AgentFs.Cli.Tests;

/// <summary>The outcome of one run of the command.</summary>
public sealed record CliResult(int ExitCode, byte[] StdoutBytes, string Stderr)
{
    public string Stdout => Encoding.UTF8.GetString(StdoutBytes);

    public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>Runs the command in-process through <see cref="Program.Run(string[], Stream, Stream, TextWriter)"/>.</summary>
public static class Cli
{
    public static CliResult Run(params string[] args) => RunWithInput([], args);

    public static CliResult RunWithInput(byte[] stdin, params string[] args)
    {
        using var input = new MemoryStream(stdin);
        using var output = new MemoryStream();
        var error = new StringWriter { NewLine = "\n" };
        int code = Program.Run(args, input, output, error);
        return new CliResult(code, output.ToArray(), error.ToString());
    }

    public static CliResult RunWithInput(string stdin, params string[] args) => RunWithInput(Encoding.UTF8.GetBytes(stdin), args);

    /// <summary>Succeeded, said nothing on stderr.</summary>
    public static CliResult Ok(this CliResult r)
    {
        Assert.True(r.ExitCode == 0 && r.Stderr.Length == 0, r.ToString());
        return r;
    }

    /// <summary>Failed with exit code 1 and exactly one line on stderr, "agentfs: ...", naming each of the given things.</summary>
    public static CliResult UserError(this CliResult r, params string[] mentions) => Failed(r, 1, mentions);

    /// <summary>Failed with exit code 2 (usage) and exactly one line on stderr.</summary>
    public static CliResult UsageError(this CliResult r, params string[] mentions) => Failed(r, 2, mentions);

    private static CliResult Failed(CliResult r, int code, string[] mentions)
    {
        Assert.True(r.ExitCode == code, $"expected exit {code}\n{r}");
        Assert.True(r.StderrLines.Length == 1, $"expected one line on stderr\n{r}");
        Assert.StartsWith("agentfs: ", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
        foreach (var m in mentions) Assert.Contains(m, r.Stderr);
        Assert.Empty(r.StdoutBytes);
        return r;
    }
}
