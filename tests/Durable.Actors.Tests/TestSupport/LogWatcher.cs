using Akka.Actor;

namespace Durable.Actors.Tests.TestSupport;

/// <summary>Completes <c>seen</c> once a warning containing <c>text</c> is logged (subscribe it to <see cref="Akka.Event.Warning"/>).</summary>
internal sealed class LogWatcher : ReceiveActor
{
    public LogWatcher(string text, TaskCompletionSource seen) =>
        Receive<Akka.Event.Warning>(w =>
        {
            if (w.Message?.ToString()?.Contains(text, StringComparison.Ordinal) == true)
                seen.TrySetResult();
        });
}
