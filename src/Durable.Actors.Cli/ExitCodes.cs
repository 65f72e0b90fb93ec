namespace Durable.Actors.Cli;

internal static class ExitCodes
{
    public const int Completed = 0;
    public const int Failed = 1;
    public const int BadUsage = 2;

    /// <summary>The workflow waits for a timer or a signal due later; a later command (resume, signal) carries it on.</summary>
    public const int Waiting = 3;

    public const int Cancelled = 4;
}

/// <summary>Bad input: reported as one line on stderr with exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
