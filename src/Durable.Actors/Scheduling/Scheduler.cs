using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using Durable.Actors.Runtime;

namespace Durable.Actors.Scheduling;

/// <summary>
/// Fires the schedules of one host (<see cref="ScheduleStore"/>): it keeps each schedule's next due time, in order,
/// and one timer of the workflow clock for the first; at a tick it applies the overlap policy, starts the tick's
/// workflow (<c>&lt;id&gt;@&lt;instant&gt;</c>: a tick fired twice, by a crash or by two hosts, starts one workflow)
/// and then records the tick as fired. A host that starts fires the ticks missed within each schedule's catch-up
/// window. Told of changes made in this process at once; those of another process (the CLI) are read every
/// <c>durable-actors.schedules.refresh-interval</c> of real time.
/// </summary>
internal sealed class Scheduler : ReceiveActor, IWithTimers
{
    /// <summary>How long a tick whose start failed (the database away) waits before it is tried again.</summary>
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(1);

    private readonly ScheduleStore _store;
    private readonly WorkflowClient _client;
    private readonly TimeProvider _clock;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _self;
    private readonly ActorSystem _system = Context.System;
    private readonly SortedSet<(DateTimeOffset Due, string Id)> _due = [];
    private readonly Dictionary<string, DateTimeOffset> _dueOf = new(StringComparer.Ordinal);
    // The schedules whose buffered tick waits for a running workflow's end (ScheduleOverlap.BufferOne).
    private readonly HashSet<string> _watching = new(StringComparer.Ordinal);
    private readonly DueTimer _timer;

    public Scheduler(ScheduleStore store, WorkflowClient client, TimeProvider clock, TimeSpan refreshInterval, Func<IDisposable?>? lead)
    {
        _lead = lead;
        _store = store;
        _client = client;
        _clock = clock;
        _self = Self;
        _timer = new DueTimer(clock, Self, Fire.Instance);
        ReceiveAsync<Load>(async load =>
        {
            await LoadAsync(load.ScheduleId).ConfigureAwait(true);
            Arm();
        });
        ReceiveAsync<Fire>(async _ =>
        {
            _timer.Fired();
            await FireDueAsync().ConfigureAwait(true);
            Arm();
        });
        ReceiveAsync<Ended>(ended => StartBufferedAsync(ended.ScheduleId));
        _refreshInterval = refreshInterval;
    }

    private readonly TimeSpan _refreshInterval;

    // Its awaits go on in the actor's context (ConfigureAwait(true)): the handlers use its timers, and the mailbox
    // waits for each handler's end, so that its state is touched by one handler at a time.

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        Self.Tell(new Load(null));
        // On real time, not the workflow clock: it looks for other processes' changes, and virtual time in tests moves
        // only to what the workflows wait for.
        Timers.StartPeriodicTimer("refresh", new Load(null), _refreshInterval);
    }

    protected override void PostStop()
    {
        _timer.Stop();
        _leading?.Dispose();
    }

    // Of the hosts on one SQLite file one fires the ticks (the holder of the file's schedules lock, taken by another at
    // a refresh once its holder is gone), so that an overlap policy sees every tick's workflow; a cluster's is a singleton.
    private readonly Func<IDisposable?>? _lead;
    private IDisposable? _leading;

    /// <summary>Takes the schedules lock when free; true when this scheduler fires the ticks.</summary>
    private bool TryLead()
    {
        if (_lead is null || _leading is not null)
            return true;
        _leading = _lead();
        return _leading is not null;
    }

    /// <summary>Reads one schedule's row (or all of them) and sets when it is due next.</summary>
    private async Task LoadAsync(string? scheduleId)
    {
        if (!TryLead())
            return;
        List<ScheduleRow> rows;
        try
        {
            rows = await Task.Run(() => scheduleId is null ? _store.All() : _store.Get(scheduleId) is { } row ? [row] : []).ConfigureAwait(true);
        }
        catch (Exception e)
        {
            _log.Warning("Schedules: reading {0} failed, tried again at the next refresh: {1}", scheduleId ?? "the schedules", e.Message);
            return;
        }
        var now = _clock.GetUtcNow();
        foreach (var gone in scheduleId is null ? _dueOf.Keys.Except(rows.Select(r => r.Spec.ScheduleId)).ToList() : rows.Count == 0 ? [scheduleId] : [])
            Unschedule(gone);
        foreach (var row in rows)
        {
            var id = row.Spec.ScheduleId;
            Unschedule(id);
            if (row.Paused || Times(row) is not { } times)
                continue;
            if (times.Next(row.LastTick ?? row.CreatedAt, now, row.Spec.CatchUpWindow) is { } due)
                Schedule(id, due);
            if (row.BufferedTick is not null && !_watching.Contains(id))
                _self.Tell(new Ended(id));
        }
    }

    private ScheduleTimes? Times(ScheduleRow row)
    {
        try
        {
            return ScheduleTimes.Of(row.Spec);
        }
        catch (ArgumentException e)
        {
            _log.Warning("Schedules: '{0}' is not valid and does not fire: {1}", row.Spec.ScheduleId, e.Message);
            return null;
        }
    }

    private void Schedule(string id, DateTimeOffset due)
    {
        _due.Add((due, id));
        _dueOf[id] = due;
    }

    private void Unschedule(string id)
    {
        if (_dueOf.Remove(id, out var due))
            _due.Remove((due, id));
    }

    private void Arm() => _timer.Arm(_due.Count == 0 ? null : _due.Min.Due);

    /// <summary>
    /// Fires every tick that is due: the schedules due together at once (their rows read in one query, their workflows
    /// started side by side, their ticks recorded in one transaction), then each schedule's next tick takes its place;
    /// again while ticks are due (a host that starts catches a schedule's missed ticks up in order).
    /// </summary>
    private async Task FireDueAsync()
    {
        while (_due.Count > 0 && _due.Min.Due <= _clock.GetUtcNow())
        {
            var now = _clock.GetUtcNow();
            var due = new List<(DateTimeOffset Tick, string Id)>();
            while (_due.Count > 0 && _due.Min.Due <= now)
            {
                var next = _due.Min;
                Unschedule(next.Id);
                due.Add(next);
            }
            Dictionary<string, ScheduleRow> rows;
            try
            {
                rows = await Task.Run(() => _store.Get(due.Select(d => d.Id).ToList())).ConfigureAwait(true);
            }
            catch (Exception e)
            {
                foreach (var (tick, id) in due)
                    Retry(id, tick, e);
                return;
            }
            var fired = await Task.WhenAll(due.Select(d => FireAsync(d.Id, d.Tick, rows.GetValueOrDefault(d.Id)))).ConfigureAwait(true);
            var toRecord = due.Where((_, i) => fired[i]).Select(d => (d.Id, d.Tick)).ToList();
            try
            {
                if (toRecord.Count > 0)
                    await Task.Run(() => _store.Fired(toRecord)).ConfigureAwait(true);
            }
            catch (Exception e)
            {
                // Not recorded as fired: due again (within the catch-up window); their workflows' ids find them started.
                foreach (var (id, tick) in toRecord)
                    Retry(id, tick, e);
                continue;
            }
            foreach (var (tick, id) in due)
            {
                if (rows.GetValueOrDefault(id) is { Paused: false } row && !_dueOf.ContainsKey(id) && Times(row) is { } times
                    && times.Next(tick, _clock.GetUtcNow(), row.Spec.CatchUpWindow) is { } next)
                    Schedule(id, next);
            }
        }
    }

    /// <summary>Applies the overlap policy to one due tick and starts its workflow; true when the tick is to be recorded as fired.</summary>
    private async Task<bool> FireAsync(string id, DateTimeOffset tick, ScheduleRow? row)
    {
        try
        {
            if (row is null || row.Paused || Times(row) is null)
                return false;
            // Fired already (by another host on the file, or before a refresh): only the next one is due.
            if (row.LastTick is { } last && last >= tick)
                return false;
            await ApplyAndStartAsync(row, tick).ConfigureAwait(true);
            return true;
        }
        catch (Exception e)
        {
            Retry(id, tick, e);
            return false;
        }
    }

    /// <summary>A tick that failed (the database away): its schedule is read again later, and the tick is due again (within its catch-up window).</summary>
    private void Retry(string id, DateTimeOffset tick, Exception e)
    {
        _log.Warning("Schedules: the tick {0} of '{1}' failed, tried again in {2}: {3}", tick, id, RetryAfter, e.Message);
        Timers.StartSingleTimer("retry:" + id, new Load(id), RetryAfter);
    }

    /// <summary>The tick's workflow, started as the overlap policy says while a workflow of an earlier tick runs.</summary>
    private async Task ApplyAndStartAsync(ScheduleRow row, DateTimeOffset tick)
    {
        var spec = row.Spec;
        var workflowId = ScheduleTimes.WorkflowId(spec.ScheduleId, tick);
        if (spec.Overlap != ScheduleOverlap.AllowAll && (await RunningAsync(spec.ScheduleId).ConfigureAwait(true)).Where(r => r != workflowId).ToList() is { Count: > 0 } running)
        {
            switch (spec.Overlap)
            {
                case ScheduleOverlap.Skip:
                    _log.Info("Schedules: the tick {0} of '{1}' is skipped: {2} runs", tick, spec.ScheduleId, running[0]);
                    return;
                case ScheduleOverlap.BufferOne:
                    await Task.Run(() => _store.Buffer(spec.ScheduleId, tick)).ConfigureAwait(true);
                    Watch(spec.ScheduleId, running[0]);
                    return;
                case ScheduleOverlap.CancelOther:
                    foreach (var other in running)
                        await AskAsync(new CancelWorkflow(other, $"schedule '{spec.ScheduleId}': overlapped by {workflowId}")).ConfigureAwait(true);
                    break;
            }
        }
        await StartAsync(spec, workflowId).ConfigureAwait(true);
    }

    /// <summary>The ids of the schedule's workflows that run or are paused (by the index).</summary>
    private async Task<List<string>> RunningAsync(string scheduleId)
    {
        var ids = new List<string>();
        foreach (var status in new[] { WorkflowRunStatus.Running, WorkflowRunStatus.Paused, WorkflowRunStatus.Enqueued })
        {
            var page = await DurableWorkflows.ListAsync(_system, new WorkflowQuery { IdPrefix = scheduleId + "@", Status = status, Limit = WorkflowQuery.MaxLimit })
                .ConfigureAwait(true);
            ids.AddRange(page.Items.Select(w => w.WorkflowId));
        }
        return ids;
    }

    /// <summary>Starts (or enqueues) <paramref name="workflowId"/>, or finds it, and returns once that is durable.</summary>
    private async Task StartAsync(ScheduleSpec spec, string workflowId)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        var reply = await ScheduleClient.BeginAsync(_client, spec, workflowId, timeout.Token).ConfigureAwait(true);
        switch (reply)
        {
            case WorkflowBegun:
                _log.Info("Schedules: '{0}' started {1}", spec.ScheduleId, workflowId);
                break;
            case WorkflowRejected rejected:
                // Nothing to try again: the same start would be refused again (an unknown type, an input of the wrong shape).
                _log.Warning("Schedules: '{0}' could not start {1}: {2}", spec.ScheduleId, workflowId, rejected.Reason);
                break;
            default:
                throw WorkflowClient.Unexpected(reply);
        }
    }

    private async Task<object> AskAsync(object message)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        return await _client.AskAsync(message, timeout.Token).ConfigureAwait(true);
    }

    /// <summary>Tells this actor when <paramref name="runningId"/> ends, so that the schedule's buffered tick starts.</summary>
    private void Watch(string scheduleId, string runningId)
    {
        if (!_watching.Add(scheduleId))
            return;
        var self = _self;
        _ = _client.GetHandle<JsonElement>(runningId).GetResultAsync()
            .ContinueWith(_ => self.Tell(new Ended(scheduleId)), TaskScheduler.Default);
    }

    /// <summary>The workflow a buffered tick waited for ended: the tick starts, unless another still runs.</summary>
    private async Task StartBufferedAsync(string scheduleId)
    {
        _watching.Remove(scheduleId);
        try
        {
            var row = await Task.Run(() => _store.Get(scheduleId)).ConfigureAwait(true);
            if (row is not { BufferedTick: { } tick, Paused: false })
                return;
            if ((await RunningAsync(scheduleId).ConfigureAwait(true)) is [var running, ..])
            {
                Watch(scheduleId, running);
                return;
            }
            await StartAsync(row.Spec, ScheduleTimes.WorkflowId(scheduleId, tick)).ConfigureAwait(true);
            await Task.Run(() => _store.Unbuffer(scheduleId, tick)).ConfigureAwait(true);
        }
        catch (Exception e)
        {
            _log.Warning("Schedules: the buffered tick of '{0}' failed, tried again at the next refresh: {1}", scheduleId, e.Message);
        }
    }

    /// <summary>Read the schedule (null: every schedule) again.</summary>
    internal sealed record Load(string? ScheduleId);

    private sealed record Ended(string ScheduleId);

    private sealed class Fire
    {
        public static Fire Instance { get; } = new();

        private Fire() { }
    }
}
