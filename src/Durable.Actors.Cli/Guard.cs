using Akka.Configuration;

namespace Durable.Actors.Cli;

/// <summary>Every verb runs through this: bad input, a database it cannot use or bad HOCON is one line on stderr and exit 2.</summary>
internal static class Guard
{
    public static async Task<int> RunAsync(Func<Task<int>> command)
    {
        try
        {
            return await command();
        }
        catch (Exception e) when (e is UsageException or DatabaseUnavailableException or ConfigurationException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadUsage;
        }
    }
}
