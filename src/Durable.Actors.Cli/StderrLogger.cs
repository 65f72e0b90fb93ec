using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace Durable.Actors.Cli;

/// <summary>Sends Akka's log to stderr, so stdout carries only the CLI's own output (and JSON stays parseable).</summary>
internal sealed class StderrLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public StderrLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Console.Error.WriteLine($"[{e.LogLevel().ToString().Replace("Level", "", StringComparison.Ordinal).ToLowerInvariant()}] {e.Message}"));
    }
}
