using System.Collections.Concurrent;
using System.Diagnostics;

namespace Durable.Actors.Runtime;

/// <summary>
/// The idle flushes of every run context of a host, on one timer: a context whose last completion is still pending
/// <see cref="After"/> after it (its run awaits something outside steps) has it written on its own. A completion only
/// notes its time, and queues its context when it is not queued yet; the timer, armed while some context is queued,
/// looks at them every <see cref="Tick"/>.
/// </summary>
/// <remarks>
/// One timer for all: a timer per context, armed again by each completion, spent an eighth of W2's CPU waiting for
/// the runtime's timer-queue lock.
/// </remarks>
internal sealed class IdleFlushes
{
    /// <summary>How long a completion waits for a next record to ride with before it is written on its own.</summary>
    public static readonly TimeSpan After = TimeSpan.FromMilliseconds(10);

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(5);
    private static readonly long AfterTicks = (long)(After.TotalSeconds * Stopwatch.Frequency);

    private readonly ConcurrentQueue<WorkflowContext> _queued = new();
    // Touched only by the timer's callback, which never overlaps itself (the timer is armed again at its end).
    private readonly List<WorkflowContext> _watched = [];
    private readonly ITimer _timer;
    private int _armed;

    public IdleFlushes()
    {
        // Real time, whatever clock the workflows run on; no execution context kept alive by the timer.
        using (ExecutionContext.SuppressFlow())
            _timer = TimeProvider.System.CreateTimer(static state => ((IdleFlushes)state!).Sweep(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Watches <paramref name="context"/> until its last completion is written or <see cref="After"/> old.</summary>
    public void Watch(WorkflowContext context)
    {
        _queued.Enqueue(context);
        if (Interlocked.Exchange(ref _armed, 1) == 0)
            _timer.Change(Tick, Timeout.InfiniteTimeSpan);
    }

    private void Sweep()
    {
        while (_queued.TryDequeue(out var context))
            _watched.Add(context);
        var now = Stopwatch.GetTimestamp();
        _watched.RemoveAll(context => context.FlushIfIdle(now, AfterTicks));
        if (_watched.Count > 0)
        {
            _timer.Change(Tick, Timeout.InfiniteTimeSpan);
            return;
        }
        Volatile.Write(ref _armed, 0);
        // A context queued after the queue was drained, before the timer was disarmed: its Watch saw it armed.
        if (!_queued.IsEmpty && Interlocked.Exchange(ref _armed, 1) == 0)
            _timer.Change(Tick, Timeout.InfiniteTimeSpan);
    }
}
