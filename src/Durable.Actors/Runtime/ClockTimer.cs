namespace Durable.Actors.Runtime;

/// <summary>
/// A timer of the workflow clock for a moment rather than a delay: a durable timer's or a wait's due time, a deadline,
/// the schedules' and queues' next tick. A <see cref="TimeProvider"/> timer waits from the time it is registered at,
/// so a clock that jumps between the reading of the time and the registration (a test's virtual clock moved by another
/// thread) would push the moment later; such a timer is armed again from the new time.
/// </summary>
internal static class ClockTimer
{
    /// <summary>More than this between reading the time and registering a timer: the clock jumped, time did not pass.</summary>
    private static readonly TimeSpan Jump = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// Calls <paramref name="fire"/> once at <paramref name="at"/>, or at once when it has passed; a moment further away
    /// than <paramref name="longest"/> calls it then (its caller looks again and arms the rest). Disposing the returned
    /// timer before it fired cancels it.
    /// </summary>
    public static ITimer At(TimeProvider clock, DateTimeOffset at, TimeSpan longest, Action fire)
    {
        var once = new Once(fire);
        while (true)
        {
            var now = clock.GetUtcNow();
            var delay = at - now;
            if (delay <= TimeSpan.Zero)
            {
                once.Fire();
                return once;
            }
            var timer = clock.CreateTimer(static state => ((Once)state!).Fire(), once, delay > longest ? longest : delay, Timeout.InfiniteTimeSpan);
            if (clock.GetUtcNow() - now < Jump)
                return once.With(timer);
            timer.Dispose();
        }
    }

    /// <summary>The callback, called at most once whichever of the timers armed for it fires; it is the timer handed out.</summary>
    private sealed class Once(Action fire) : ITimer
    {
        private ITimer? _timer;
        private int _done;

        public void Fire()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
                fire();
        }

        public Once With(ITimer timer)
        {
            _timer = timer;
            return this;
        }

        public bool Change(TimeSpan dueTime, TimeSpan period) => throw new NotSupportedException("A clock timer is armed for one moment.");

        public void Dispose()
        {
            Interlocked.Exchange(ref _done, 1);
            _timer?.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
