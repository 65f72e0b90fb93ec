using Akka.Actor;
using Akka.Event;
using Durable.Actors.Runtime;

namespace Durable.Actors.Queues;

/// <summary>
/// Admits the enqueued workflows of one host (<see cref="QueueState"/> per queue), told of each enqueue made here and
/// of each end (a watch on every workflow it admitted): no polling. An admission is written (<see cref="QueueStore.Admitted"/>)
/// before the workflow is let go (<see cref="AdmitWorkflow"/>), so that a crash between the two leaves it counted;
/// a host that starts reads the entries, asks to admit again those it admitted (idempotent: a workflow that runs
/// already is only watched) and counts the admissions within the rate windows. Enqueues of other processes (the CLI)
/// are read every <c>durable-actors.queue-dispatch.refresh-interval</c> of real time. Of the hosts on one SQLite file
/// one admits (the one that holds the file's queue lock, taken by another at a refresh once its holder is gone), so
/// that the limits count every host's workflows; on a cluster the dispatcher is a singleton.
/// </summary>
internal sealed class QueueDispatcher : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    private readonly QueueStore _store;
    private readonly WorkflowClient _client;
    private readonly IActorRef _coordinator;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _refreshInterval;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, QueueState> _queues;
    private readonly HashSet<string> _unknownQueues = new(StringComparer.Ordinal);
    private readonly IActorRef _self;
    private long _lastSeq;
    private readonly DueTimer _timer;
    private readonly TimeSpan? _rewatchEvery;
    private readonly Func<IDisposable?>? _lead;
    private IDisposable? _leading;

    public QueueDispatcher(QueueStore store, IReadOnlyDictionary<string, QueueOptions> queues, WorkflowClient client, IActorRef coordinator,
        TimeProvider clock, TimeSpan refreshInterval, TimeSpan? rewatchEvery, Func<IDisposable?>? lead)
    {
        _lead = lead;
        _rewatchEvery = rewatchEvery;
        _store = store;
        _client = client;
        _coordinator = coordinator;
        _clock = clock;
        _refreshInterval = refreshInterval;
        _self = Self;
        _timer = new DueTimer(clock, Self, DispatchDue.Instance);
        _queues = queues.Values.ToDictionary(q => q.Name, q => new QueueState(q), StringComparer.Ordinal);
        ReceiveAsync<Load>(_ => LoadAsync());
        // A host that does not admit leaves this process's enqueues, changes and cancels to the one that does, which
        // reads them from the table (a cancelled one answers its admission with its end).
        Receive<Enqueued>(enqueued =>
        {
            if (!Leads)
                return;
            Take(enqueued.Entry, loaded: false);
            Dispatch();
        });
        Receive<Rescheduled>(rescheduled =>
        {
            if (!Leads)
                return;
            if (_queues.TryGetValue(rescheduled.Entry.Queue, out var queue))
                queue.Reschedule(rescheduled.Entry);
            Dispatch();
        });
        Receive<DispatchDue>(_ =>
        {
            _timer.Fired();
            Dispatch();
        });
        Receive<AdmissionsWritten>(OnAdmissionsWritten);
        Receive<AdmitDone>(OnAdmitDone);
        Receive<Readmit>(readmit => WriteAdmissions(readmit.Entries));
        Receive<EndsWritten>(OnEndsWritten);
        Receive<RewatchDue>(_ => Rewatch());
        Receive<EnqueuedWorkflowCancelled>(cancelled => Dropped(cancelled.WorkflowId));
        Receive<SlotReleased>(OnSlotReleased);
        Receive<ReleaseWritten>(OnReleaseWritten);
        Receive<WorkflowCompleted>(ended => Ended(ended.WorkflowId));
        Receive<WorkflowFailed>(ended => Ended(ended.WorkflowId));
        Receive<WorkflowCancelled>(ended => Ended(ended.WorkflowId));
        Receive<WorkflowNotFound>(ended => Ended(ended.WorkflowId));
    }

    // Its writes run off the actor (a Task each, their outcome told back as a message), so that an admission follows an
    // end within a mailbox hop; only the load at start and at each refresh holds the mailbox (its awaits go on in the
    // actor's context, ConfigureAwait(true)).

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        Self.Tell(Load.Instance);
        // On real time, not the workflow clock: it looks for other processes' enqueues.
        Timers.StartPeriodicTimer("refresh", Load.Instance, _refreshInterval);
        if (_rewatchEvery is { } every)
            Timers.StartPeriodicTimer("rewatch", RewatchDue.Instance, every);
    }

    /// <summary>
    /// Asks again to be told of the end of each workflow admitted and running (a watch is kept once per watcher): on a
    /// cluster a watch lives with the workflow's bucket, and is lost with a node that dies.
    /// </summary>
    private void Rewatch()
    {
        foreach (var queue in _queues.Values)
        {
            foreach (var entry in queue.Running)
                Watch(entry);
        }
    }

    private void Watch(QueueEntry entry) =>
        _coordinator.Tell(new WatchWorkflow(entry.WorkflowId, "queue:" + entry.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)), _self);

    protected override void PostStop()
    {
        _timer.Stop();
        _leading?.Dispose();
    }

    /// <summary>Whether this dispatcher admits: it is the only one (a cluster's singleton), or holds the file's queue lock.</summary>
    private bool Leads => _lead is null || _leading is not null;

    /// <summary>Takes the queue lock when free; true when this dispatcher admits.</summary>
    private bool TryLead()
    {
        if (Leads)
            return true;
        _leading = _lead!();
        if (_leading is not null)
            _log.Info("Queues: this host admits the enqueued workflows of its database file");
        return _leading is not null;
    }

    /// <summary>Reads the entries not seen yet: at start every one (the admitted ones are asked again), later those of other processes.</summary>
    private async Task LoadAsync()
    {
        if (!TryLead())
            return;
        List<QueueEntry> entries;
        var window = _queues.Values.Select(q => q.Options.Window).DefaultIfEmpty(TimeSpan.Zero).Max();
        try
        {
            var since = _clock.GetUtcNow() - window;
            var after = _lastSeq;
            entries = await Task.Run(() => _store.Load(after, since)).ConfigureAwait(true);
        }
        catch (Exception e)
        {
            _log.Warning("Queues: reading the entries failed, tried again at the next refresh: {0}", e.Message);
            return;
        }
        foreach (var entry in entries)
        {
            // Later loads look for enqueues only: an admitted entry read again is one of this host's (it ended since,
            // or its end is being written), whose slot and rate count this host keeps already.
            _lastSeq = Math.Max(_lastSeq, entry.Seq);
            if (_started && entry.AdmittedAt is not null)
                continue;
            if (Take(entry, loaded: true) && entry is { AdmittedAt: not null, Ended: false })
                Admit(entry);
        }
        _started = true;
        Dispatch();
    }

    /// <summary>Whether the first load (every entry, the admitted ones too) is done.</summary>
    private bool _started;

    /// <summary>
    /// Takes an entry into its queue's state; false when it was known, or its queue is not declared here. Only a load
    /// moves the mark of the entries read: an entry of another process, written before one of this process that was
    /// told first, is still read at the next refresh.
    /// </summary>
    private bool Take(QueueEntry entry, bool loaded)
    {
        if (loaded)
            _lastSeq = Math.Max(_lastSeq, entry.Seq);
        if (_queues.TryGetValue(entry.Queue, out var queue))
            return queue.Add(entry);
        if (_unknownQueues.Add(entry.Queue))
            _log.Warning("Queues: workflow {0} is enqueued on queue '{1}', which this host does not declare: it waits", entry.WorkflowId, entry.Queue);
        return false;
    }

    /// <summary>
    /// Admits what every queue's limits allow now (counted at once, so that no later decision admits past a limit),
    /// writes the admissions, and arms the timer for the earliest time one may admit more.
    /// </summary>
    private void Dispatch()
    {
        var now = _clock.GetUtcNow();
        var admit = new List<QueueEntry>();
        DateTimeOffset? again = null;
        foreach (var queue in _queues.Values)
        {
            var (entries, at) = queue.Decide(now);
            admit.AddRange(entries);
            if (at is { } t && (again is null || t < again))
                again = t;
        }
        if (admit.Count > 0)
            WriteAdmissions(admit);
        _timer.Arm(again);
    }

    /// <summary>Writes the admissions (each with the time it was decided at) before the workflows go.</summary>
    private void WriteAdmissions(IReadOnlyList<QueueEntry> entries)
    {
        var self = _self;
        Task.Run(() =>
        {
            // A debounced entry runs with its input as the admission found it (a later enqueue may have joined it).
            var inputs = new Dictionary<long, string>();
            foreach (var at in entries.GroupBy(e => e.AdmittedAt!.Value))
            {
                foreach (var (seq, input) in _store.Admitted(at.Select(e => e.Seq).ToList(), at.Key))
                    inputs[seq] = input;
            }
            return (IReadOnlyList<QueueEntry>)entries.Select(e => inputs.TryGetValue(e.Seq, out var input) ? e with { InputJson = input } : e).ToList();
        }).PipeTo(self, success: written => new AdmissionsWritten(written, null), failure: e => new AdmissionsWritten(entries, e));
    }

    private void OnAdmissionsWritten(AdmissionsWritten written)
    {
        if (written.Error is { } error)
        {
            // Counted as admitted here, not written: written again after a pause; the limits hold meanwhile.
            _log.Warning("Queues: writing {0} admissions failed, tried again in {1}: {2}", written.Entries.Count, RetryAfter, error.Message);
            Timers.StartSingleTimer("admit:" + written.Entries[0].Seq, new Readmit(written.Entries), RetryAfter);
            return;
        }
        foreach (var entry in written.Entries)
            Admit(entry);
    }

    /// <summary>Lets an admitted entry's workflow go (starting it, if the enqueue's start was cut short by a crash).</summary>
    private void Admit(QueueEntry entry)
    {
        AdmitAsync(entry).PipeTo(_self, success: reply => new AdmitDone(entry, reply, null), failure: e => new AdmitDone(entry, null, e));
    }

    private async Task<object> AdmitAsync(QueueEntry entry)
    {
        using var timeout = new CancellationTokenSource(AskTimeout);
        var input = entry.Debounced ? entry.InputJson : null;
        var reply = await _client.AskAsync(new AdmitWorkflow(entry.WorkflowId, input), timeout.Token).ConfigureAwait(false);
        if (reply is not WorkflowNotFound)
            return reply;
        var begun = await _client.AskAsync(new BeginWorkflow(entry.WorkflowId, entry.WorkflowType, entry.InputJson, null, Timeout: entry.Timeout, Queue: entry.Queue),
            timeout.Token).ConfigureAwait(false);
        return begun is WorkflowRejected
            ? begun
            : await _client.AskAsync(new AdmitWorkflow(entry.WorkflowId, input), timeout.Token).ConfigureAwait(false);
    }

    private void OnAdmitDone(AdmitDone done)
    {
        var id = done.Entry.WorkflowId;
        switch (done.Reply)
        {
            case WorkflowAdmitted:
                // Told when it ends (at once when it has ended already).
                Watch(done.Entry);
                break;
            case WorkflowRejected rejected:
                _log.Warning("Queues: workflow {0} of queue '{1}' could not start: {2}", id, done.Entry.Queue, rejected.Reason);
                Ended(id);
                break;
            case WorkflowCompleted or WorkflowFailed or WorkflowCancelled:
                Ended(id);
                break;
            default:
                _log.Warning("Queues: admitting workflow {0} failed, tried again in {1}: {2}", id, RetryAfter,
                    done.Error?.Message ?? done.Reply?.GetType().Name);
                Timers.StartSingleTimer("admit:" + done.Entry.Seq, new Readmit([done.Entry]), RetryAfter);
                break;
        }
    }

    /// <summary>A workflow this host admitted ended: its slot is free, and the next may go; its end is written in the background.</summary>
    private void Ended(string workflowId)
    {
        foreach (var queue in _queues.Values)
        {
            // Running, or waiting again after it gave its slot back to sleep (and then ended: cancelled, say).
            if ((queue.End(workflowId) ?? queue.Drop(workflowId)) is not { } entry)
                continue;
            _endsToWrite.Add((entry.Seq, queue.Options.Window > TimeSpan.Zero));
            WriteEnds();
            Dispatch();
            return;
        }
    }

    /// <summary>
    /// A workflow admitted here gave its slot back to sleep: written enqueued again (not before its wake-up) before the
    /// slot is given to another, so that a crash between the two leaves it counted, never both running.
    /// </summary>
    private void OnSlotReleased(SlotReleased released)
    {
        if (!Leads || _queues.Values.Select(q => q.RunningOf(released.WorkflowId)).FirstOrDefault(e => e is not null) is not { } entry)
            return;
        Task.Run(() => _store.Released(entry.Seq, released.WakeAt))
            .PipeTo(_self, success: () => new ReleaseWritten(released, null), failure: e => new ReleaseWritten(released, e));
    }

    private void OnReleaseWritten(ReleaseWritten written)
    {
        if (written.Error is { } error)
        {
            // Still counted as running: the next host's start asks it again, and it releases its slot again then.
            _log.Warning("Queues: recording that workflow {0} released its slot failed: {1}", written.Released.WorkflowId, error.Message);
            return;
        }
        foreach (var queue in _queues.Values)
        {
            if (queue.Release(written.Released.WorkflowId, written.Released.WakeAt) is not null)
            {
                Dispatch();
                return;
            }
        }
    }

    private sealed record ReleaseWritten(SlotReleased Released, Exception? Error);

    /// <summary>An enqueued workflow was cancelled before its admission: its entry goes, taking no slot and no start of a rate limit.</summary>
    private void Dropped(string workflowId)
    {
        if (!Leads)
            return;
        foreach (var queue in _queues.Values)
        {
            if (queue.Drop(workflowId) is not { } entry)
                continue;
            _endsToWrite.Add((entry.Seq, false));
            WriteEnds();
            return;
        }
    }

    private readonly List<(long Seq, bool Keep)> _endsToWrite = [];
    private bool _writingEnds;

    /// <summary>
    /// Writes the ends told so far in one transaction, one write at a time. An end not written (a crash, the database
    /// away) is only a row that still says it runs: the next host asks it again and learns that it ended.
    /// </summary>
    private void WriteEnds()
    {
        if (_writingEnds || _endsToWrite.Count == 0)
            return;
        _writingEnds = true;
        var ends = _endsToWrite.ToList();
        _endsToWrite.Clear();
        Task.Run(() => _store.Ended(ends)).PipeTo(_self, success: () => new EndsWritten(null), failure: e => new EndsWritten(e));
    }

    private void OnEndsWritten(EndsWritten written)
    {
        _writingEnds = false;
        if (written.Error is { } error)
            _log.Warning("Queues: recording ends failed (a later host reads them from the workflows): {0}", error.Message);
        WriteEnds();
    }

    /// <summary>Read the entries not seen yet.</summary>
    internal sealed class Load
    {
        public static Load Instance { get; } = new();

        private Load() { }
    }

    /// <summary>An enqueue of this process is durable: its entry, to admit when its queue allows.</summary>
    internal sealed record Enqueued(QueueEntry Entry);

    /// <summary>A debounced enqueue of this process joined the waiting entry of its key: its new input and start time.</summary>
    internal sealed record Rescheduled(QueueEntry Entry);

    private sealed record AdmitDone(QueueEntry Entry, object? Reply, Exception? Error);

    private sealed record AdmissionsWritten(IReadOnlyList<QueueEntry> Entries, Exception? Error);

    /// <summary>Write these admissions again (the first write failed), then let the workflows go.</summary>
    private sealed record Readmit(IReadOnlyList<QueueEntry> Entries);

    private sealed record EndsWritten(Exception? Error);

    private sealed class RewatchDue
    {
        public static RewatchDue Instance { get; } = new();

        private RewatchDue() { }
    }

    private sealed class DispatchDue
    {
        public static DispatchDue Instance { get; } = new();

        private DispatchDue() { }
    }
}
