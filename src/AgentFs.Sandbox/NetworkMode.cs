namespace AgentFs.Sandbox;

/// <summary>What the sandbox may reach on the network.</summary>
public enum NetworkMode
{
    /// <summary>A network namespace of its own with only loopback: nothing outside is reachable, and nothing
    /// outside reaches a server started inside. The default (see README: least privilege; one flag opens it).</summary>
    None,

    /// <summary>The host's network, shared: what an agent needs to reach its model API.</summary>
    Host,

    /// <summary>A network namespace of its own, like <see cref="None"/>, where an HTTP(S) proxy served by this
    /// process (outside) reaches only the destinations of <see cref="SandboxOptions.AllowedDestinations"/>, and
    /// reports each attempt (<see cref="SandboxOptions.NetworkLog"/>). HTTP_PROXY and HTTPS_PROXY point to it inside.</summary>
    Allow,
}
