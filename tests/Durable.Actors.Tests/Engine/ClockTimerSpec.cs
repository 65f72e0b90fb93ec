using Durable.Actors.Runtime;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// The engine's timers for a moment (<see cref="ClockTimer"/>: durable timers, wait timeouts, deadlines, the schedules'
/// and queues' ticks) on a clock that jumps, as a test's virtual clock does: a jump that lands while a timer is being
/// armed does not push its moment later, and the callback runs once.
/// </summary>
public sealed class ClockTimerSpec
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ClockMovedPastTheMomentWhileTheTimerWasArmed_FiresAtOnce_AndOnlyOnce()
    {
        // Another thread moves the clock a minute on between the reading of the time and the timer's registration:
        // registered as it was read, the timer would wait a minute from the new time.
        var clock = new JumpingClock(T0) { JumpOnCreate = TimeSpan.FromMinutes(1) };
        var fired = 0;

        using var timer = ClockTimer.At(clock, T0.AddMinutes(1), TimeSpan.FromDays(30), () => fired++);
        clock.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(1, fired);
    }

    [Fact]
    public void ClockMovedWhileArmedButNotToTheMoment_FiresWhenTheMomentIsReached()
    {
        var clock = new JumpingClock(T0) { JumpOnCreate = TimeSpan.FromSeconds(20) };
        var fired = 0;

        using var timer = ClockTimer.At(clock, T0.AddMinutes(1), TimeSpan.FromDays(30), () => fired++);
        clock.Advance(TimeSpan.FromSeconds(39));
        Assert.Equal(0, fired);
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(1, fired);
    }

    [Fact]
    public void DisposedBeforeTheMoment_NeverFires()
    {
        var clock = new JumpingClock(T0);
        var fired = 0;

        ClockTimer.At(clock, T0.AddMinutes(1), TimeSpan.FromDays(30), () => fired++).Dispose();
        clock.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(0, fired);
    }

    /// <summary>
    /// A manual clock whose timers fire on <see cref="Advance"/>, on the advancing thread; its time jumps by
    /// <see cref="JumpOnCreate"/> (once) just before a timer is registered.
    /// </summary>
    private sealed class JumpingClock(DateTimeOffset start) : TimeProvider
    {
        private readonly List<Registered> _timers = [];
        private DateTimeOffset _now = start;

        public TimeSpan? JumpOnCreate { get; set; }

        public override DateTimeOffset GetUtcNow() => _now;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (JumpOnCreate is { } jump)
            {
                JumpOnCreate = null;
                Advance(jump);
            }
            var timer = new Registered(this, _now + dueTime, () => callback(state));
            _timers.Add(timer);
            return timer;
        }

        public void Advance(TimeSpan by)
        {
            _now += by;
            var due = _timers.Where(t => t.Due <= _now).ToList();
            _timers.RemoveAll(due.Contains);
            foreach (var timer in due)
                timer.Callback();
        }

        private sealed class Registered(JumpingClock clock, DateTimeOffset due, Action callback) : ITimer
        {
            public DateTimeOffset Due { get; } = due;

            public Action Callback { get; } = callback;

            public bool Change(TimeSpan dueTime, TimeSpan period) => throw new NotSupportedException();

            public void Dispose() => clock._timers.Remove(this);

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
