using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace Durable.Actors.Cli.Hosting;

/// <summary>Sends Akka's log to stderr, so stdout carries only the CLI's own output (and JSON stays parseable).</summary>
internal sealed class StderrLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private static int _silenced;

    public StderrLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            // A member's connection to another member that left (another CLI, say) closing: the transport reports it as
            // an error; membership, not the transport, says whether a member failed.
            if (!Silenced && !(e is Error && (e.Cause?.GetType().Name == "EndpointDisassociatedException" || Equals(e.Message, "Disassociated"))))
                Console.Error.WriteLine($"[{e.LogLevel().ToString().Replace("Level", "", StringComparison.Ordinal).ToLowerInvariant()}] {e.Message}");
        });
    }

    /// <summary>
    /// Set once the command is done and the CLI leaves a cluster: the transport then reports the connections it closes
    /// ("Disassociated") as errors, which say nothing about the command.
    /// </summary>
    public static bool Silenced
    {
        get => Volatile.Read(ref _silenced) == 1;
        set => Volatile.Write(ref _silenced, value ? 1 : 0);
    }
}
