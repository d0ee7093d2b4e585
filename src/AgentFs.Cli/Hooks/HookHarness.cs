namespace AgentFs.Cli.Hooks;

/// <summary>The agent harnesses whose hooks <c>agentfs hook</c> installs, and when the hook checkpoints.</summary>
internal static class HookHarness
{
    public const string ClaudeCode = "claude-code";
    public const string OpenCode = "opencode";

    public static readonly string[] Names = [ClaudeCode, OpenCode];

    /// <summary>After every turn (the agent's answer is complete) or also after every tool call.</summary>
    public const string PerTurn = "turn", PerTool = "tool";
}
