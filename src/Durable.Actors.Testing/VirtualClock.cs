namespace Durable.Actors.Testing;

/// <summary>
/// A clock that moves only when told: <see cref="Advance"/> moves it and fires, in due order, every timer due by then.
/// The engine's timers, signal timeouts, retry delays, <c>NowAsync</c> and wake-ups all read it, so a test never waits
/// real time for them.
/// </summary>
public sealed class VirtualClock : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<VirtualTimer> _timers = [];
    private DateTimeOffset _now;
    private long _armed;

    /// <summary>A clock that reads <paramref name="start"/> until moved.</summary>
    public VirtualClock(DateTimeOffset start) => _now = start;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
            return _now;
    }

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <inheritdoc />
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    /// <summary>How many timers are armed.</summary>
    public int PendingTimers
    {
        get
        {
            lock (_gate)
                return _timers.Count(t => t.Due is not null);
        }
    }

    /// <summary>When the earliest armed timer is due; null when none is armed.</summary>
    public DateTimeOffset? NextDue
    {
        get
        {
            lock (_gate)
                return _timers.Where(t => t.Due is not null).Min(t => t.Due);
        }
    }

    /// <summary>Counts every arming of a timer: the kit sees that something changed.</summary>
    internal long Armings => Interlocked.Read(ref _armed);

    /// <summary>Moves the clock by <paramref name="by"/>, firing every timer due meanwhile in due order, each with the clock at its due time.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="by"/> is negative.</exception>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        DateTimeOffset target;
        lock (_gate)
            target = _now + by;
        while (true)
        {
            while (FireNext(target))
            {
            }
            lock (_gate)
            {
                // A timer another thread armed after the last check may be due by the target: fire it too, or it would
                // be overdue and never fired once the clock stands at the target.
                if (_timers.Any(t => t.Due <= target))
                    continue;
                if (_now < target)
                    _now = target;
                return;
            }
        }
    }

    /// <summary>Moves the clock to the earliest timer due by <paramref name="until"/> and fires the timers due then; false when none was.</summary>
    internal bool FireNext(DateTimeOffset until)
    {
        List<VirtualTimer> due;
        lock (_gate)
        {
            var next = _timers.Where(t => t.Due is { } d && d <= until).Min(t => t.Due);
            if (next is not { } at)
                return false;
            if (at > _now)
                _now = at;
            due = _timers.Where(t => t.Due <= at).ToList();
            foreach (var timer in due)
                timer.Due = timer.Period is { } period ? at + period : null;
        }
        foreach (var timer in due)
            timer.Fire();
        return true;
    }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new VirtualTimer(this, callback, state);
        lock (_gate)
            _timers.Add(timer);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class VirtualTimer(VirtualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due { get; set; }

        public TimeSpan? Period { get; private set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            bool dueNow;
            lock (clock._gate)
            {
                if (!clock._timers.Contains(this))
                    return false;
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock._now + (dueTime < TimeSpan.Zero ? TimeSpan.Zero : dueTime);
                Period = period == Timeout.InfiniteTimeSpan || period <= TimeSpan.Zero ? null : period;
                dueNow = Due <= clock._now;
            }
            Interlocked.Increment(ref clock._armed);
            // Due at once, as a real timer would be: fired on the pool, without moving the clock.
            if (dueNow)
                ThreadPool.QueueUserWorkItem(static c => c.FireNext(c.GetUtcNow()), clock, preferLocal: false);
            return true;
        }

        public void Dispose()
        {
            lock (clock._gate)
            {
                Due = null;
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
