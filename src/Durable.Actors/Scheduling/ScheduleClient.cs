using System.Text.Json;
using Akka.Actor;
using Durable.Actors.Runtime;
using Durable.Actors.Scheduling;

namespace Durable.Actors;

/// <summary>
/// Creates and operates schedules (<see cref="ScheduleSpec"/>): <see cref="WorkflowClient.Schedules"/>. A schedule is
/// a row of the engine's SQLite file and costs no memory between its ticks; the host's scheduler fires it on the
/// workflow clock, with no polling of its own (other processes' changes, such as the CLI's, are read every
/// <c>durable-actors.schedules.refresh-interval</c>).
/// </summary>
public sealed class ScheduleClient
{
    /// <summary>The most ticks one <see cref="BackfillAsync"/> starts.</summary>
    public const int MaxBackfill = 10_000;

    private readonly ScheduleStore _store;
    private readonly WorkflowClient _client;
    private readonly IActorRef _scheduler;
    private readonly TimeProvider _clock;

    internal ScheduleClient(ScheduleStore store, WorkflowClient client, IActorRef scheduler, TimeProvider clock)
    {
        _store = store;
        _client = client;
        _scheduler = scheduler;
        _clock = clock;
    }

    /// <summary>Creates a schedule; its first tick is the first after now.</summary>
    /// <exception cref="ArgumentException">The spec is not valid (the message names what): its id, cron expression, interval, time zone, catch-up window, workflow type (registered on this host), input JSON or queue (declared on this host).</exception>
    /// <exception cref="InvalidOperationException">A schedule has this id (delete it first to replace it).</exception>
    public async Task<ScheduleInfo> CreateAsync(ScheduleSpec spec, CancellationToken cancellationToken = default)
    {
        Check(spec, _client.Registry);
        if (spec.Queue is { } queue && !(_client.QueueClient?.Declared.Any(q => q.Name == queue) ?? false))
            throw new ArgumentException($"Schedule '{spec.ScheduleId}': queue '{queue}' is not declared on this host.");
        var now = _clock.GetUtcNow();
        if (!await Task.Run(() => _store.Insert(spec, now), cancellationToken).ConfigureAwait(false))
            throw new InvalidOperationException($"Schedule '{spec.ScheduleId}' exists; delete it first to replace it.");
        Changed(spec.ScheduleId);
        return Info(new ScheduleRow(spec, false, now, null, null), now);
    }

    /// <summary>The schedule, with its next tick; null for an unknown id.</summary>
    public async Task<ScheduleInfo?> GetAsync(string scheduleId, CancellationToken cancellationToken = default)
    {
        var row = await Task.Run(() => _store.Get(scheduleId), cancellationToken).ConfigureAwait(false);
        return row is null ? null : Info(row, _clock.GetUtcNow());
    }

    /// <summary>Every schedule, by id.</summary>
    public async Task<IReadOnlyList<ScheduleInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var rows = await Task.Run(_store.All, cancellationToken).ConfigureAwait(false);
        var now = _clock.GetUtcNow();
        return rows.Select(r => Info(r, now)).ToList();
    }

    /// <summary>Pauses the schedule: its ticks start nothing until it is resumed (the workflows it started go on).</summary>
    /// <exception cref="KeyNotFoundException">No schedule has this id.</exception>
    public Task PauseAsync(string scheduleId, CancellationToken cancellationToken = default) =>
        ChangeAsync(scheduleId, () => _store.SetPaused(scheduleId, true, _clock.GetUtcNow()), cancellationToken);

    /// <summary>Resumes a paused schedule from now: the ticks that came while it was paused are not fired.</summary>
    /// <exception cref="KeyNotFoundException">No schedule has this id.</exception>
    public Task ResumeAsync(string scheduleId, CancellationToken cancellationToken = default) =>
        ChangeAsync(scheduleId, () => _store.SetPaused(scheduleId, false, _clock.GetUtcNow()), cancellationToken);

    /// <summary>Deletes the schedule; the workflows it started are not changed.</summary>
    /// <exception cref="KeyNotFoundException">No schedule has this id.</exception>
    public Task DeleteAsync(string scheduleId, CancellationToken cancellationToken = default) =>
        ChangeAsync(scheduleId, () => _store.Delete(scheduleId), cancellationToken);

    /// <summary>
    /// Starts the schedule's workflow now, whatever its overlap policy and even while it is paused: id
    /// <c>&lt;scheduleId&gt;@&lt;now, to the second&gt;</c> (a second trigger in the same second finds the first's).
    /// Returns the workflow's id once its start is durable.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No schedule has this id.</exception>
    public async Task<string> TriggerAsync(string scheduleId, CancellationToken cancellationToken = default)
    {
        var row = await RowAsync(scheduleId, cancellationToken).ConfigureAwait(false);
        var now = _clock.GetUtcNow();
        var workflowId = ScheduleTimes.WorkflowId(scheduleId, new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero));
        await StartAsync(row.Spec, workflowId, cancellationToken).ConfigureAwait(false);
        return workflowId;
    }

    /// <summary>
    /// Starts the workflow of every tick of the schedule from <paramref name="from"/> (included) to
    /// <paramref name="to"/> (excluded), whatever its overlap policy and catch-up window; a tick whose workflow exists
    /// is found, not started again. Returns the ticks' workflow ids, in order, once their starts are durable.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No schedule has this id.</exception>
    /// <exception cref="ArgumentException"><paramref name="to"/> is not after <paramref name="from"/>, or the range holds more than <see cref="MaxBackfill"/> ticks.</exception>
    public async Task<IReadOnlyList<string>> BackfillAsync(string scheduleId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        if (to <= from)
            throw new ArgumentException($"A backfill of schedule '{scheduleId}' ends after it starts, not at {to:O} for a start at {from:O}.");
        var row = await RowAsync(scheduleId, cancellationToken).ConfigureAwait(false);
        var times = ScheduleTimes.Of(row.Spec);
        var ticks = new List<DateTimeOffset>();
        for (var tick = times.After(from.AddTicks(-1)); tick is { } t && t < to; tick = times.After(t))
        {
            if (ticks.Count == MaxBackfill)
                throw new ArgumentException($"A backfill of schedule '{scheduleId}' from {from:O} to {to:O} holds more than {MaxBackfill:N0} ticks; backfill a shorter range.");
            ticks.Add(t);
        }
        var ids = new List<string>(ticks.Count);
        foreach (var tick in ticks)
        {
            var workflowId = ScheduleTimes.WorkflowId(scheduleId, tick);
            await StartAsync(row.Spec, workflowId, cancellationToken).ConfigureAwait(false);
            ids.Add(workflowId);
        }
        return ids;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming what is wrong with <paramref name="spec"/> on a host of <paramref name="registry"/> (its type unchecked on a member that runs no workflows).</summary>
    internal static ScheduleTimes Check(ScheduleSpec spec, WorkflowRegistry registry)
    {
        var times = ScheduleTimes.Of(spec);
        // A cluster member that runs no workflows knows no type: the nodes reject a tick of an unknown one.
        if (registry.WorkflowTypes.Count > 0 && !registry.TryGet(spec.WorkflowType, out _))
            throw new ArgumentException($"Schedule '{spec.ScheduleId}': '{spec.WorkflowType}' is not a registered workflow type (known: {string.Join(", ", registry.WorkflowTypes.Order(StringComparer.Ordinal))}).");
        try
        {
            using var _ = JsonDocument.Parse(spec.InputJson);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"Schedule '{spec.ScheduleId}': its input is not JSON ({e.Message})", e);
        }
        return times;
    }

    /// <summary>The schedule as stored, with its next tick seen at <paramref name="now"/>.</summary>
    internal static ScheduleInfo Info(ScheduleRow row, DateTimeOffset now)
    {
        DateTimeOffset? next = null;
        if (!row.Paused)
        {
            try
            {
                next = ScheduleTimes.Of(row.Spec).Next(row.LastTick ?? row.CreatedAt, now, row.Spec.CatchUpWindow);
            }
            catch (ArgumentException)
            {
                // A spec this host cannot read (a time zone it lacks) has no next tick here.
            }
        }
        return new ScheduleInfo(row.Spec, row.Paused, row.CreatedAt, row.LastTick, next);
    }

    private async Task<ScheduleRow> RowAsync(string scheduleId, CancellationToken cancellationToken) =>
        await Task.Run(() => _store.Get(scheduleId), cancellationToken).ConfigureAwait(false) ?? throw NotFound(scheduleId);

    private async Task ChangeAsync(string scheduleId, Func<bool> change, CancellationToken cancellationToken)
    {
        if (!await Task.Run(change, cancellationToken).ConfigureAwait(false))
            throw NotFound(scheduleId);
        Changed(scheduleId);
    }

    private static KeyNotFoundException NotFound(string scheduleId) => new($"No schedule has the id '{scheduleId}'.");

    private void Changed(string scheduleId) => _scheduler.Tell(new Scheduler.Load(scheduleId));

    /// <summary>
    /// Starts the tick's workflow, or enqueues it on the schedule's queue: <see cref="WorkflowBegun"/> once that is
    /// durable (or it existed), or <see cref="WorkflowRejected"/> (an unknown type or queue, bad input).
    /// </summary>
    internal static async Task<object> BeginAsync(WorkflowClient client, ScheduleSpec spec, string workflowId, CancellationToken cancellationToken)
    {
        if (spec.Queue is not { } queue)
            return await client.AskAsync(new BeginWorkflow(workflowId, spec.WorkflowType, spec.InputJson, null), cancellationToken).ConfigureAwait(false);
        try
        {
            await client.Queues.EnqueueAsync(spec.WorkflowType, workflowId, spec.InputJson, new EnqueueOptions(queue), traceParent: null, cancellationToken)
                .ConfigureAwait(false);
            return new WorkflowBegun(workflowId);
        }
        catch (WorkflowRejectedException e)
        {
            return new WorkflowRejected(workflowId, e.Reason);
        }
        catch (ArgumentException e)
        {
            return new WorkflowRejected(workflowId, e.Message);
        }
    }

    private async Task StartAsync(ScheduleSpec spec, string workflowId, CancellationToken cancellationToken)
    {
        var reply = await BeginAsync(_client, spec, workflowId, cancellationToken).ConfigureAwait(false);
        switch (reply)
        {
            case WorkflowBegun:
                return;
            case WorkflowRejected rejected:
                throw new WorkflowRejectedException(rejected.WorkflowId, rejected.Reason);
            default:
                throw WorkflowClient.Unexpected(reply);
        }
    }
}
