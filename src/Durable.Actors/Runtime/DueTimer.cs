using Akka.Actor;

namespace Durable.Actors.Runtime;

/// <summary>
/// One timer of the workflow clock (virtual time in tests) that tells an actor <paramref name="message"/> at the earliest
/// time it was armed for: the schedules' and the queues' next due moment. Touched by its actor only.
/// </summary>
internal sealed class DueTimer(TimeProvider clock, IActorRef target, object message)
{
    /// <summary>A timer longer than this is armed for this long, and the actor looks again then.</summary>
    private static readonly TimeSpan Longest = TimeSpan.FromDays(30);

    private ITimer? _timer;
    private DateTimeOffset? _due;

    /// <summary>Arms it for <paramref name="due"/> unless it is armed earlier already; at once when that has passed.</summary>
    public void Arm(DateTimeOffset? due)
    {
        if (due is not { } at || (_due is { } armed && armed <= at))
            return;
        _timer?.Dispose();
        _due = at;
        _timer = ClockTimer.At(clock, at, Longest, () => target.Tell(message, ActorRefs.NoSender));
    }

    /// <summary>Its message came: it is not armed any more.</summary>
    public void Fired() => _due = null;

    /// <summary>Disarms it for good (its actor stops).</summary>
    public void Stop() => _timer?.Dispose();
}
