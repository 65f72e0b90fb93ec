namespace Durable.Actors.Queues;

/// <summary>
/// One queue's admissions, decided without I/O: its enqueued entries in order (priority, then enqueue order), the
/// running ones per key, and the admissions within its rate limits' windows. The dispatcher writes what
/// <see cref="Decide"/> admits before it lets the workflows go, and tells it of each end.
/// </summary>
internal sealed class QueueState(QueueOptions options)
{
    private static readonly Comparer<QueueEntry> Order = Comparer<QueueEntry>.Create((a, b) =>
        a.Priority != b.Priority ? a.Priority.CompareTo(b.Priority) : a.Seq.CompareTo(b.Seq));

    private readonly SortedSet<QueueEntry> _enqueued = new(Order);
    private readonly Dictionary<long, QueueEntry> _enqueuedBySeq = [];
    private readonly HashSet<long> _known = [];
    private readonly Dictionary<string, QueueEntry> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _runningByKey = new(StringComparer.Ordinal);
    private readonly Queue<DateTimeOffset> _starts = new();
    private readonly Dictionary<string, Queue<DateTimeOffset>> _startsByKey = new(StringComparer.Ordinal);

    public QueueOptions Options { get; } = options;

    /// <summary>The entries admitted whose ends were not seen: each holds a slot.</summary>
    public IEnumerable<QueueEntry> Running => _running.Values;

    /// <summary>The admitted entry of <paramref name="workflowId"/> that holds a slot; null when none does.</summary>
    public QueueEntry? RunningOf(string workflowId) => _running.GetValueOrDefault(workflowId);

    /// <summary>Takes an entry read or told (once: a second sight of its seq is ignored); false when it was known already.</summary>
    public bool Add(QueueEntry entry)
    {
        if (!_known.Add(entry.Seq))
            return false;
        if (entry.AdmittedAt is { } admitted)
            Counted(entry, admitted);
        if (entry.Ended)
            return true;
        if (entry.AdmittedAt is null)
        {
            _enqueued.Add(entry);
            _enqueuedBySeq[entry.Seq] = entry;
        }
        else
            Hold(entry);
        return true;
    }

    /// <summary>A debounced entry that waits took a later enqueue's input and start time; nothing when it was admitted meanwhile.</summary>
    public void Reschedule(QueueEntry entry)
    {
        if (!_enqueuedBySeq.Remove(entry.Seq, out var waiting))
            return;
        _enqueued.Remove(waiting);
        _enqueued.Add(entry);
        _enqueuedBySeq[entry.Seq] = entry;
    }

    /// <summary>
    /// The entries to admit now, in order, as far as the limits allow (counted as admitted at <paramref name="now"/>),
    /// and when to look again: the earliest not-before time or rate window's end that holds one back (null: an end will).
    /// </summary>
    public (List<QueueEntry> Admit, DateTimeOffset? LookAgainAt) Decide(DateTimeOffset now)
    {
        Forget(now);
        var admit = new List<QueueEntry>();
        DateTimeOffset? again = null;
        foreach (var entry in _enqueued)
        {
            if (Options.Concurrency is { } limit && _running.Count >= limit)
                break;
            if (Options.RateLimit is { } rate && _starts.Count >= rate.Starts)
            {
                again = Earlier(again, _starts.Peek() + rate.Period);
                break;
            }
            if (entry.NotBefore is { } notBefore && notBefore > now)
            {
                again = Earlier(again, notBefore);
                continue;
            }
            if (entry.Key is { } key)
            {
                if (Options.KeyConcurrency is { } keyLimit && _runningByKey.GetValueOrDefault(key) >= keyLimit)
                    continue;
                if (Options.KeyRateLimit is { } keyRate && _startsByKey.TryGetValue(key, out var keyStarts) && keyStarts.Count >= keyRate.Starts)
                {
                    again = Earlier(again, keyStarts.Peek() + keyRate.Period);
                    continue;
                }
            }
            var admitted = entry with { AdmittedAt = now };
            admit.Add(admitted);
            Hold(admitted);
            Counted(admitted, now);
        }
        foreach (var entry in admit)
        {
            _enqueued.Remove(entry);
            _enqueuedBySeq.Remove(entry.Seq);
        }
        return (admit, again);
    }

    /// <summary>The workflow ended (or is gone): its slot is free; its entry, if this queue holds it.</summary>
    public QueueEntry? End(string workflowId)
    {
        if (_running.Remove(workflowId, out var entry))
        {
            _known.Remove(entry.Seq);
            if (entry.Key is { } key && --_runningByKey[key] == 0)
                _runningByKey.Remove(key);
            return entry;
        }
        return null;
    }

    /// <summary>
    /// The admitted workflow gave its slot back to sleep until <paramref name="wakeAt"/>: it waits again, in its place
    /// of enqueue order, not before then; its entry, or null when this queue does not hold it as running.
    /// </summary>
    public QueueEntry? Release(string workflowId, DateTimeOffset wakeAt)
    {
        if (End(workflowId) is not { } running)
            return null;
        var waiting = running with { AdmittedAt = null, NotBefore = wakeAt };
        _known.Add(waiting.Seq);
        _enqueued.Add(waiting);
        _enqueuedBySeq[waiting.Seq] = waiting;
        return waiting;
    }

    /// <summary>Drops an enqueued (not admitted) entry of <paramref name="workflowId"/> (cancelled while it waited); null when none waits.</summary>
    public QueueEntry? Drop(string workflowId)
    {
        if (_enqueuedBySeq.Values.FirstOrDefault(e => e.WorkflowId == workflowId) is not { } entry)
            return null;
        _enqueued.Remove(entry);
        _enqueuedBySeq.Remove(entry.Seq);
        _known.Remove(entry.Seq);
        return entry;
    }

    private void Hold(QueueEntry entry)
    {
        _running[entry.WorkflowId] = entry;
        if (entry.Key is { } key)
            _runningByKey[key] = _runningByKey.GetValueOrDefault(key) + 1;
    }

    private void Counted(QueueEntry entry, DateTimeOffset admittedAt)
    {
        if (Options.RateLimit is not null)
            Insert(_starts, admittedAt);
        if (Options.KeyRateLimit is not null && entry.Key is { } key)
        {
            if (!_startsByKey.TryGetValue(key, out var starts))
                _startsByKey[key] = starts = new Queue<DateTimeOffset>();
            Insert(starts, admittedAt);
        }
    }

    // Admissions come in time order, but those read at a host's start may not: kept sorted, oldest first.
    private static void Insert(Queue<DateTimeOffset> starts, DateTimeOffset at)
    {
        if (starts.Count == 0 || starts.Last() <= at)
        {
            starts.Enqueue(at);
            return;
        }
        var sorted = starts.Append(at).Order().ToList();
        starts.Clear();
        foreach (var t in sorted)
            starts.Enqueue(t);
    }

    /// <summary>Drops the admissions older than their rate window.</summary>
    private void Forget(DateTimeOffset now)
    {
        if (Options.RateLimit is { } rate)
        {
            while (_starts.Count > 0 && _starts.Peek() + rate.Period <= now)
                _starts.Dequeue();
        }
        if (Options.KeyRateLimit is { } keyRate)
        {
            foreach (var (key, starts) in _startsByKey.ToList())
            {
                while (starts.Count > 0 && starts.Peek() + keyRate.Period <= now)
                    starts.Dequeue();
                if (starts.Count == 0)
                    _startsByKey.Remove(key);
            }
        }
    }

    private static DateTimeOffset? Earlier(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x <= b ? x : b;
}
