using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AgentFs.Sandbox.Tests;

/// <summary>
/// A database inside the session (issue 9, item 5): PostgreSQL (Debian's postgresql package) keeps its cluster in
/// the session, a checkpoint taken while the server runs is crash-consistent (the server recovers from it as
/// from a power cut), and rollback brings the table back; so does a branch made from that checkpoint. The
/// server listens on 127.0.0.1 inside, and the host cannot reach it (--net none).
/// PostgreSQL refuses to run as root; the sandbox's root has no capabilities to change its uid, so the command
/// runs with --user postgres (a user namespace: it is uid postgres inside and the caller outside).
/// </summary>
public sealed class PostgresTests : IDisposable
{
    private readonly SandboxProject _p = new();

    public void Dispose() => _p.Dispose();

    /// <summary>The bin directory of the newest PostgreSQL under /usr/lib/postgresql (Debian's layout).</summary>
    private static string PostgresBin()
    {
        var bins = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderBy(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out int v) ? v : 0)
                .ToList()
            : [];
        if (bins.Count == 0)
            throw new Xunit.Sdk.XunitException("PostgreSQL is not installed: no /usr/lib/postgresql/*/bin/initdb; install Debian's postgresql package (scripts/test.sh does)");
        return bins[^1];
    }

    /// <summary>A TCP port nothing on the host listens on now, so a connection to it from the host could only reach
    /// a server that leaked out of the sandbox.</summary>
    private static int FreeHostPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static bool HostCanConnect(int port)
    {
        using var c = new TcpClient();
        try
        {
            c.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException) { return false; }
    }

    [Fact]
    public void A_checkpoint_of_a_running_server_recovers_as_from_a_power_cut_after_rollback_and_on_a_new_branch()
    {
        var total = Stopwatch.StartNew();
        string bin = PostgresBin();
        int port = FreeHostPort();
        string go = _p.PathIn("go");
        string baseHash = SandboxProject.TreeHash(_p.BaseDir);
        string env = $"set -e; export PATH={bin}:$PATH PGHOST=/tmp PGPORT={port} PGUSER=postgres\n";
        string start = $"pg_ctl -D pgdata -l server.log -w -o '-c listen_addresses=127.0.0.1 -p {port} -k /tmp' start >/dev/null 2>&1\n";
        const string stop = "pg_ctl -D pgdata -m fast -w stop >/dev/null\n";
        // The rows, and a digest of every one of them, to compare byte for byte after the rollback.
        const string contents = "psql -v ON_ERROR_STOP=1 -Atc \"select count(*), sum(i), md5(string_agg(s, ',' order by i)) from t\"\n";

        // 1. initdb, start, fill a table; the checkpoint is taken from outside while the server runs (it knows
        //    nothing of it); then the table is dropped and the server stopped. The script waits for the test's
        //    go-file: the store's directory (the test's root) is visible, read-only, inside.
        using var first = _p.Start(_p.BaseDir, "run", _p.StorePath, "--user", "postgres", "--", "bash", "-c", env + $"""
            initdb -D pgdata -A trust -U postgres >/dev/null
            {start}
            psql -h 127.0.0.1 -v ON_ERROR_STOP=1 -qc "create table t(i int primary key, s text); insert into t select g, md5(g::text) from generate_series(1, 1000) g"
            {contents}
            echo ready
            while [ ! -e {go} ]; do sleep 0.05; done
            psql -v ON_ERROR_STOP=1 -qc "drop table t"
            psql -Atc "select count(*) from pg_tables where tablename = 't'"
            {stop}
            """);
        var firstOut = new List<string>();
        var readLines = Task.Run(() =>
        {
            string? l;
            while ((l = first.StandardOutput.ReadLine()) != null) lock (firstOut) firstOut.Add(l);
        });
        var firstErr = first.StandardError.ReadToEndAsync();
        Assert.True(SandboxProject.Eventually(() => { lock (firstOut) return firstOut.Contains("ready"); }, 90_000) ,
            $"the server never came up: {string.Join('\n', firstOut)}\n{(first.HasExited ? firstErr.Result : "(running)")}");
        string filled;
        lock (firstOut) filled = firstOut[0];
        Assert.Matches(@"^1000\|500500\|[0-9a-f]{32}$", filled);

        // It listens on 127.0.0.1:port inside (psql -h 127.0.0.1 above), and nothing of it outside.
        Assert.False(HostCanConnect(port), $"the host reached the sandbox's server on 127.0.0.1:{port}");
        Assert.Contains($"{_p.StorePath}\tmain\t{_p.BaseDir}\t{first.Id}\tnone\tbash -c", _p.Agent("status").Stdout);
        var checkpoint = _p.Agent("checkpoint", _p.StorePath, "-m", "table filled, server running");
        Assert.True(checkpoint.ExitCode == 0, checkpoint.ToString());
        Assert.Equal("1\n", checkpoint.Stdout);

        File.WriteAllText(go, "");
        Assert.True(first.WaitForExit(60_000), "the first run did not end");
        readLines.Wait();
        Assert.True(first.ExitCode == 0, $"exit {first.ExitCode}: {string.Join('\n', firstOut)}\n{firstErr.Result}");
        Assert.Equal([filled, "ready", "0"], firstOut);

        // 2. Roll back; a new run starts the server on the cluster as the checkpoint caught it: it recovers (as
        //    after a power cut) and the table and its rows are back.
        string recover = env + start + contents + "grep -c 'database system was not properly shut down; automatic recovery in progress' server.log\n";
        Assert.Equal(0, _p.Agent("rollback", _p.StorePath, "1").ExitCode);
        var second = _p.RunScript(recover + "psql -v ON_ERROR_STOP=1 -qc 'insert into t values (1001, 42)'\n" + stop, "--user", "postgres");
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal($"{filled}\n1\n", second.Stdout);

        // 3. The same on a second branch made from the checkpoint: the row main added since is not there.
        Assert.Equal(0, _p.Agent("branch", _p.StorePath, "second", "--from", "1").ExitCode);
        var third = _p.RunScript(recover + stop, "--user", "postgres", "--branch", "second");
        Assert.True(third.ExitCode == 0, third.ToString());
        Assert.Equal($"{filled}\n1\n", third.Stdout);

        var integrity = Process.Start(new ProcessStartInfo("sqlite3", [_p.StorePath, "pragma integrity_check"]) { RedirectStandardOutput = true })!;
        Assert.Equal("ok\n", integrity.StandardOutput.ReadToEnd());
        integrity.WaitForExit();
        Assert.Equal(baseHash, SandboxProject.TreeHash(_p.BaseDir));
        Assert.False(Directory.Exists(Path.Combine(_p.BaseDir, "pgdata")));
        Console.WriteLine($"PostgreSQL scenario: {total.Elapsed.TotalSeconds:0.0} s");
    }
}
