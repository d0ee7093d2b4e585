using System.Diagnostics;
using System.Text;

namespace AgentFs.Cli.Tests;

/// <summary>
/// <c>agentfs report</c>: the page is loaded in a real browser (headless Chromium, Debian package chromium): it
/// loads with no console message, shows every checkpoint and branch head, and hostile text from the session (a
/// diff holding &lt;script&gt; and &lt;/pre&gt;, markup in a message) is shown as text, never run or parsed.
/// </summary>
public class ReportCommandTests
{
    private const string Script = "<script>document.title='pwned';console.error('ran')</script>";
    private const string Breakout = "</pre></details><h1 id=\"injected\">escaped the diff</h1><img src=x onerror=\"console.error('img')\">";

    private static Sandbox HostileStore()
    {
        var sb = LogGraphCommandTests.ForkedStore();
        sb.Write("evil.html", Script + "\n" + Breakout + "\n", "deep").Ok();
        Cli.Run("checkpoint", sb.StorePath, "--branch", "deep", "-m", "<b id=\"msg\">bold</b> & co", "--meta", "model=<i>x</i>").Ok();
        return sb;
    }

    [Fact]
    public void The_page_loads_in_chromium_without_console_messages_and_shows_every_checkpoint()
    {
        using var sb = HostileStore();
        string page = sb.PathIn("report.html");
        var r = Cli.Run("report", sb.StorePath, "-o", page).Ok();
        Assert.Equal($"wrote {page}: 4 branches, 6 checkpoints, {new FileInfo(page).Length} bytes\n", r.Stdout);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(page));

        var (dom, console) = Chromium.DumpDom(page, sb.Root);
        Assert.Empty(console);
        Assert.Contains("<title>AgentFs report: store.agentfs</title>", dom);
        for (int id = 1; id <= 6; id++) Assert.Contains($"<section class=\"node\" id=\"cp-{id}\">", dom);
        foreach (var b in new[] { "main", "side", "deep", "empty" }) Assert.Contains($"<section class=\"node\" id=\"head-{b}\">", dom);
        Assert.Contains("<h2>Checkpoint 2 <span class=\"branch\">main</span>: <span class=\"message\">task 2</span></h2>", dom);
        // The graph is log --graph's, with links: its text is the command's text.
        string graphText = System.Text.RegularExpressions.Regex.Replace(Between(dom, "<pre class=\"graph\">", "</pre>"), "<[^>]+>", "");
        Assert.Equal(Cli.Run("log", sb.StorePath, "--graph").Ok().Stdout.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;"), graphText);
        // Operations of checkpoint 2 (written in-process by 'fs write': this process's name).
        string cp2 = Between(dom, "id=\"cp-2\">", "</section>");
        Assert.Contains("<h3>Operations (", cp2);
        Assert.Contains("<td>.</td>", cp2);
        Assert.Contains("<span class=\"add\">+x</span>", cp2);
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void A_diff_with_script_and_pre_tags_is_shown_as_text_not_run()
    {
        using var sb = HostileStore();
        string page = sb.PathIn("report.html");
        Cli.Run("report", sb.StorePath, "-o", page).Ok();
        var (dom, console) = Chromium.DumpDom(page, sb.Root);
        Assert.Empty(console);
        Assert.Contains("<title>AgentFs report: store.agentfs</title>", dom); // the script did not set it
        Assert.DoesNotContain("<script", dom);
        Assert.DoesNotContain("<img", dom);
        Assert.DoesNotContain("id=\"injected\"", dom.Replace("&lt;h1 id=\"injected\"&gt;", ""));
        Assert.DoesNotContain("id=\"msg\"", dom.Replace("&lt;b id=\"msg\"&gt;", ""));
        Assert.Contains("+&lt;script&gt;document.title='pwned';console.error('ran')&lt;/script&gt;", dom);
        Assert.Contains("+&lt;/pre&gt;&lt;/details&gt;&lt;h1 id=\"injected\"&gt;escaped the diff&lt;/h1&gt;", dom);
        Assert.Contains("&lt;b id=\"msg\"&gt;bold&lt;/b&gt; &amp; co", dom);
        Assert.Contains("<td>&lt;i&gt;x&lt;/i&gt;</td>", dom);
    }

    /// <summary>The check above can fail: a page that logs or breaks a rule is seen by the same harness.</summary>
    [Fact]
    public void The_harness_sees_console_messages_and_blocked_scripts()
    {
        using var sb = new Sandbox();
        string page = sb.PathIn("bad.html");
        File.WriteAllText(page, "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">"
            + "<title>t</title></head><body><script>console.error('x')</script></body></html>");
        var (_, console) = Chromium.DumpDom(page, sb.Root);
        Assert.NotEmpty(console); // the CSP refused the inline script, and said so on the console
        File.WriteAllText(page, "<!DOCTYPE html><html><head><title>t</title></head><body><script>console.error('seen')</script></body></html>");
        (_, console) = Chromium.DumpDom(page, sb.Root);
        Assert.Contains(console, l => l.Contains("seen"));
    }

    [Fact]
    public void A_screenshot_of_the_page_is_a_real_image()
    {
        using var sb = LogGraphCommandTests.ForkedStore();
        string page = sb.PathIn("report.html"), png = sb.PathIn("report.png");
        Cli.Run("report", sb.StorePath, "-o", page).Ok();
        Chromium.Run(sb.Root, "--screenshot=" + png, "--window-size=1000,800", new Uri(page).AbsoluteUri);
        var bytes = File.ReadAllBytes(png);
        Assert.True(bytes.Length > 10_000, $"screenshot of {bytes.Length} bytes");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
    }

    [Fact]
    public void Bad_input_gets_one_line_and_no_file()
    {
        using var sb = new Sandbox();
        string page = sb.PathIn("r.html");
        Cli.Run("report", sb.StorePath).UsageError("-o");
        Cli.Run("report", sb.StorePath, "-o", page, "--branch", "ghost").UserError("ghost");
        Cli.Run("report", sb.StorePath, "-o", sb.PathIn("no/such/dir.html")).UserError("does not exist");
        Cli.Run("report", sb.StorePath, "-o", sb.StorePath).UserError(sb.StorePath, "store");
        Cli.Run("report", sb.StorePath, "-o", sb.Root).UserError("directory");
        Assert.False(File.Exists(page));
        Assert.Equal(Sandbox.Snapshot(sb.StorePath), sb.StoreSnapshot());
        sb.AssertBaseUnchanged();
    }

    [Fact]
    public void Report_to_stdout_is_the_page_itself()
    {
        using var sb = new Sandbox();
        string html = Cli.Run("report", sb.StorePath, "-o", "-").Ok().Stdout;
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.EndsWith("</html>\n", html);
        Assert.Contains("<section class=\"node\" id=\"head-main\">", html);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
    }

    private static string Between(string text, string start, string end)
    {
        int i = text.IndexOf(start, StringComparison.Ordinal);
        Assert.True(i >= 0, $"'{start}' is not in the page");
        i += start.Length;
        int j = text.IndexOf(end, i, StringComparison.Ordinal);
        return text[i..j];
    }
}

/// <summary>Headless Chromium (Debian package chromium), run once per page with its own profile.</summary>
internal static class Chromium
{
    /// <summary>The page's DOM after load, and every console message Chromium logged (--enable-logging=stderr).</summary>
    public static (string Dom, List<string> Console) DumpDom(string page, string scratch)
    {
        var (stdout, stderr) = Run(scratch, "--dump-dom", "--enable-logging=stderr", "--v=0", new Uri(page).AbsoluteUri);
        var console = stderr.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal)).ToList();
        return (stdout, console);
    }

    public static (string Stdout, string Stderr) Run(string scratch, params string[] args)
    {
        string profile = Directory.CreateTempSubdirectory("agentfs-chromium-").FullName;
        try
        {
            var psi = new ProcessStartInfo("chromium")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, WorkingDirectory = scratch,
            };
            foreach (var a in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile, .. args]) psi.ArgumentList.Add(a);
            Process p;
            try { p = Process.Start(psi)!; }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException("chromium is not installed (Debian package chromium; scripts/test.sh installs it): " + e.Message);
            }
            using (p)
            {
                p.StandardInput.Close();
                var err = p.StandardError.ReadToEndAsync();
                string stdout = p.StandardOutput.ReadToEnd();
                if (!p.WaitForExit(180_000))
                {
                    p.Kill(entireProcessTree: true);
                    Assert.Fail("chromium did not finish in 180 s");
                }
                Assert.True(p.ExitCode == 0, $"chromium exited {p.ExitCode}: {err.Result}");
                return (stdout, err.Result);
            }
        }
        finally { Directory.Delete(profile, true); }
    }
}
