using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace AgentFs.Sandbox.Tests;

/// <summary>
/// A minimal HTTP server on the host's 127.0.0.1 (a port of its own): answers every request with <see cref="Body"/>
/// and remembers each request line, so a test sees what reached it and in which form. With a certificate, it
/// speaks HTTPS (TLS on every connection).
/// </summary>
public sealed class LoopbackHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<string> _requests = [];
    private readonly Task _loop;

    private readonly X509Certificate2? _certificate;

    public LoopbackHttpServer(byte[] body, X509Certificate2? certificate = null)
    {
        Body = body;
        _certificate = certificate;
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public byte[] Body { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The request lines received so far ("GET /x HTTP/1.1").</summary>
    public List<string> Requests
    {
        get { lock (_requests) return [.. _requests]; }
    }

    private async Task Serve()
    {
        while (true)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(); }
            catch (Exception) { return; }
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        Stream stream = client.GetStream();
                        if (_certificate != null)
                        {
                            var tls = new SslStream(stream);
                            await tls.AuthenticateAsServerAsync(_certificate);
                            stream = tls;
                        }
                        var head = new List<byte>();
                        var one = new byte[1];
                        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
                        {
                            if (await stream.ReadAsync(one) == 0) return;
                            head.Add(one[0]);
                        }
                        string text = Encoding.Latin1.GetString(head.ToArray());
                        lock (_requests) _requests.Add(text[..text.IndexOf("\r\n", StringComparison.Ordinal)]);
                        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {Body.Length}\r\nConnection: close\r\n\r\n"));
                        await stream.WriteAsync(Body);
                    }
                    catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException) { }
                }
            });
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _loop.Wait(5000);
    }
}
