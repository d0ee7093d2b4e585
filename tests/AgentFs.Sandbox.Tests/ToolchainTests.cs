using System.Diagnostics;
using System.Security.Cryptography;

namespace AgentFs.Sandbox.Tests;

/// <summary>A developer's tools inside the sandbox (issue 9): a C compiler and npm, offline (--net none). git is in
/// SessionTests. What they make lands in the session, byte for byte, and never in the base.</summary>
public sealed class ToolchainTests : IDisposable
{
    private readonly SandboxProject _p = new();

    public void Dispose() => _p.Dispose();

    /// <summary>A file of the session as the store holds it (read outside the sandbox).</summary>
    private byte[] SessionFile(string path)
    {
        var psi = new ProcessStartInfo(SandboxProject.Agentfs, ["fs", _p.StorePath, "cat", path]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        using var bytes = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(bytes);
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"agentfs fs cat {path}: exit {p.ExitCode}");
        return bytes.ToArray();
    }

    [Fact]
    public void A_C_program_compiles_and_runs_and_its_binary_is_in_the_session()
    {
        string baseHash = SandboxProject.TreeHash(_p.BaseDir);
        var r = _p.RunScript("""
            set -e
            cat > src/sum.c <<'C'
            #include <stdio.h>
            int main(void) { long s = 0; for (int i = 1; i <= 100; i++) s += i; FILE *f = fopen("sum.txt", "w"); fprintf(f, "%ld\n", s); fclose(f); return 7; }
            C
            cc -O2 -o sum src/sum.c
            ./sum || echo "exit $?"
            sha256sum sum | cut -d' ' -f1
            """);
        Assert.True(r.ExitCode == 0, r.ToString());
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("exit 7", lines[0]);
        Assert.Equal("5050\n"u8.ToArray(), SessionFile("sum.txt"));
        byte[] binary = SessionFile("sum");
        Assert.Equal(lines[1], Convert.ToHexStringLower(SHA256.HashData(binary)));
        Assert.Equal("\x7f" + "ELF", System.Text.Encoding.ASCII.GetString(binary, 0, 4));
        Assert.Equal(baseHash, SandboxProject.TreeHash(_p.BaseDir));
        Assert.False(File.Exists(Path.Combine(_p.BaseDir, "sum")));
    }

    [Fact]
    public void Npm_packs_and_installs_a_local_package_offline()
    {
        string baseHash = SandboxProject.TreeHash(_p.BaseDir);
        // The user's ~/.npm is read-only inside (as the whole host is): the cache goes to the private /tmp (or a
        // --bind ~/.npm would share the host's).
        var r = _p.RunScript("""
            set -e
            mkdir greet app
            cd greet && npm init -y >/dev/null
            echo 'module.exports = n => "hello, " + n;' > index.js
            npm pack --silent
            cd ../app && npm init -y >/dev/null
            npm install --offline --no-audit --no-fund --silent ../greet/greet-1.0.0.tgz
            node -e 'console.log(require("greet")("sandbox"))'
            """, "--env", "npm_config_cache=/tmp/npm-cache");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("greet-1.0.0.tgz\nhello, sandbox\n", r.Stdout);
        const string module = "module.exports = n => \"hello, \" + n;\n";
        Assert.Equal(module, System.Text.Encoding.UTF8.GetString(SessionFile("app/node_modules/greet/index.js")));
        Assert.Contains("\"greet\": \"file:../greet/greet-1.0.0.tgz\"", System.Text.Encoding.UTF8.GetString(SessionFile("app/package.json")));

        // The tarball npm made is a real one: tar outside reads the same module from it.
        string tgz = _p.PathIn("greet.tgz");
        File.WriteAllBytes(tgz, SessionFile("greet/greet-1.0.0.tgz"));
        var tar = Process.Start(new ProcessStartInfo("tar", ["-xzOf", tgz, "package/index.js"]) { RedirectStandardOutput = true })!;
        Assert.Equal(module, tar.StandardOutput.ReadToEnd());
        tar.WaitForExit();
        Assert.Equal(baseHash, SandboxProject.TreeHash(_p.BaseDir));
    }
}
