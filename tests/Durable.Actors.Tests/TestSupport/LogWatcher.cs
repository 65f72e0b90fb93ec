using Akka.Actor;

namespace Durable.Actors.Tests.TestSupport;

/// <summary>Completes <c>seen</c> once a log event containing <c>text</c> is logged (subscribe it to the level, e.g. <see cref="Akka.Event.Warning"/>).</summary>
internal sealed class LogWatcher : ReceiveActor
{
    public LogWatcher(string text, TaskCompletionSource seen) =>
        Receive<Akka.Event.LogEvent>(w =>
        {
            if (w.Message?.ToString()?.Contains(text, StringComparison.Ordinal) == true)
                seen.TrySetResult();
        });
}
