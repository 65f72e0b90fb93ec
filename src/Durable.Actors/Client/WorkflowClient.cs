using System.Runtime.CompilerServices;
using System.Text.Json;
using Akka.Actor;
using Durable.Actors.Runtime;

namespace Durable.Actors;

/// <summary>
/// Starts workflows and gets handles on them, for application code: typed inputs and results, no message matching.
/// Get it with <see cref="DurableWorkflows.Client"/> once the engine started (actor code and tests may keep using the
/// messages).
/// </summary>
/// <example>
/// <code>
/// var client = DurableWorkflows.Client(system);
/// var handle = await client.StartAsync&lt;ExpenseRequest, string&gt;("approval", "exp-1", request);   // returns once durable
/// await handle.SignalAsync("decision", new ExpenseDecision(true, "grace"));
/// var outcome = await handle.GetResultAsync();
/// </code>
/// </example>
public sealed class WorkflowClient
{
    private static readonly ConditionalWeakTable<ActorSystem, WorkflowClient> Clients = [];

    private readonly IActorRef _coordinator;

    /// <summary>Where the client sends its requests: the host's coordinator, or a cluster's region.</summary>
    internal IActorRef Coordinator => _coordinator;

    private readonly ActorSystem _system;

    private WorkflowClient(ActorSystem system, IActorRef coordinator, WorkflowRegistry registry, TimeSpan? resendAfter)
    {
        _system = system;
        _coordinator = coordinator;
        Registry = registry;
        _resendAfter = resendAfter;
    }

    // Cluster mode: a message to a node that dies is lost (sharding delivers at most once), so a request unanswered
    // after this long is sent again. Every request the client sends is idempotent: a start joins the existing
    // workflow, a signal carries a delivery id. Null on one machine, where nothing is lost in transit.
    private readonly TimeSpan? _resendAfter;

    /// <summary>Signals carry a delivery id when requests may be sent again.</summary>
    internal bool Resends => _resendAfter is not null;

    internal WorkflowRegistry Registry { get; }

    /// <summary>Set when the host keeps schedules (the engine's SQLite file).</summary>
    internal ScheduleClient? ScheduleClient { get; set; }

    /// <summary>Creates and operates schedules: workflows started at the ticks of a cron expression or an interval.</summary>
    /// <exception cref="NotSupportedException">The host keeps no schedules: they live in the engine's SQLite file or a cluster's PostgreSQL database, and another journal plugin has none.</exception>
    public ScheduleClient Schedules => ScheduleClient
        ?? throw new NotSupportedException("Schedules are kept in the engine's SQLite file or a cluster's PostgreSQL database; this host's journal plugin keeps none.");

    /// <summary>Set when the host keeps queues (the engine's SQLite file).</summary>
    internal QueueClient? QueueClient { get; set; }

    /// <summary>How the queues stand (<see cref="EnqueueAsync{TInput, TResult}"/> enqueues).</summary>
    /// <exception cref="NotSupportedException">The host keeps no queues: they live in the engine's SQLite file or a cluster's PostgreSQL database, and another journal plugin has none.</exception>
    public QueueClient Queues => QueueClient
        ?? throw new NotSupportedException("Queues are kept in the engine's SQLite file or a cluster's PostgreSQL database; this host's journal plugin keeps none.");

    internal JsonSerializerOptions Json => Registry.JsonOptions;

    internal static void Register(ActorSystem system, IActorRef coordinator, WorkflowRegistry registry, TimeSpan? resendAfter = null) =>
        Clients.AddOrUpdate(system, new WorkflowClient(system, coordinator, registry, resendAfter));

    internal static WorkflowClient Of(ActorSystem system) => Clients.TryGetValue(system, out var client)
        ? client
        : throw new InvalidOperationException("The workflow engine was not started in this ActorSystem: call DurableWorkflows.Start (or WithDurableWorkflows) first.");

    /// <summary>Starts workflow <paramref name="workflowId"/>, or finds it if it exists, and returns once its start is durable.</summary>
    /// <typeparam name="TInput">The workflow's input.</typeparam>
    /// <typeparam name="TResult">The workflow's result.</typeparam>
    /// <param name="workflowType">A registered workflow type.</param>
    /// <param name="workflowId">The workflow's id, unique in the database. An existing id keeps its recorded type and input.</param>
    /// <param name="input">The input.</param>
    /// <param name="cancellationToken">Stops waiting for the start (the start may still happen).</param>
    /// <exception cref="WorkflowRejectedException">Nothing was started: unknown type, input of the wrong shape, invalid id.</exception>
    public Task<WorkflowHandle<TResult>> StartAsync<TInput, TResult>(
        string workflowType, string workflowId, TInput input, CancellationToken cancellationToken = default) =>
        StartAsync<TInput, TResult>(workflowType, workflowId, input, StartOptions.Default, cancellationToken);

    /// <summary>Starts workflow <paramref name="workflowId"/> with <paramref name="options"/> (a timeout), or finds it if it exists.</summary>
    /// <inheritdoc cref="StartAsync{TInput, TResult}(string, string, TInput, CancellationToken)"/>
    public async Task<WorkflowHandle<TResult>> StartAsync<TInput, TResult>(
        string workflowType, string workflowId, TInput input, StartOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowType);
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowId);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Timeout is { } timeout)
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero, "options.Timeout");
        var inputJson = JsonSerializer.Serialize(input, Json);
        var begin = new BeginWorkflow(workflowId, workflowType, inputJson, null, Observability.Telemetry.CurrentTraceParent(), options.Timeout);
        var reply = await AskAsync(begin, cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            WorkflowBegun => new WorkflowHandle<TResult>(this, workflowId),
            WorkflowRejected rejected => throw new WorkflowRejectedException(rejected.WorkflowId, rejected.Reason),
            _ => throw Unexpected(reply),
        };
    }

    /// <summary>
    /// Enqueues workflow <paramref name="workflowId"/> on a queue (<see cref="EnqueueOptions.Queue"/>) and returns its
    /// handle once the enqueue is durable: it is ENQUEUED, none of its code runs until the queue's limits admit it (in
    /// priority order, then enqueue order). Cancel it through the handle to drop it without running it.
    /// </summary>
    /// <typeparam name="TInput">The workflow's input.</typeparam>
    /// <typeparam name="TResult">The workflow's result.</typeparam>
    /// <param name="workflowType">A registered workflow type.</param>
    /// <param name="workflowId">The workflow's id, unique in the database. An id on a queue already, or in use by a workflow, is found, not enqueued again.</param>
    /// <param name="input">The input.</param>
    /// <param name="options">The queue, and the key, priority, deduplication id, not-before time or delay, timeout.</param>
    /// <param name="cancellationToken">Stops waiting for the enqueue (it may still happen).</param>
    /// <returns>The handle of the workflow enqueued: of the first one when <see cref="EnqueueOptions.DeduplicationId"/> was in use.</returns>
    /// <exception cref="ArgumentException">The queue is not declared on this host, or an option is not valid (the message names it).</exception>
    /// <exception cref="WorkflowRejectedException">Nothing was enqueued: unknown type, input of the wrong shape, invalid id.</exception>
    /// <exception cref="NotSupportedException">The host keeps no queues (see <see cref="Queues"/>).</exception>
    public async Task<WorkflowHandle<TResult>> EnqueueAsync<TInput, TResult>(
        string workflowType, string workflowId, TInput input, EnqueueOptions options, CancellationToken cancellationToken = default)
    {
        var id = await Queues.EnqueueAsync(workflowType, workflowId, JsonSerializer.Serialize(input, Json), options,
            Observability.Telemetry.CurrentTraceParent(), cancellationToken).ConfigureAwait(false);
        return new WorkflowHandle<TResult>(this, id);
    }

    /// <summary>
    /// Forks the ended workflow <paramref name="sourceId"/> (<see cref="ForkWorkflow"/>): a new workflow that replays the
    /// source's records before <see cref="ForkOptions.From"/> and runs the rest with the code deployed now, on the
    /// source's input. Returns once the new workflow is durable; the source is not changed.
    /// </summary>
    /// <typeparam name="TResult">The workflow's result.</typeparam>
    /// <param name="sourceId">A completed, failed or cancelled workflow.</param>
    /// <param name="options">Where to fork from (null: from the top, a restart), the new id, a timeout.</param>
    /// <param name="cancellationToken">Stops waiting for the fork (it may still happen).</param>
    /// <exception cref="WorkflowRejectedException">Nothing was started: the source is unknown or running, no operation is recorded at <see cref="ForkOptions.From"/>, the new id exists.</exception>
    public Task<WorkflowHandle<TResult>> ForkAsync<TResult>(string sourceId, ForkOptions? options = null, CancellationToken cancellationToken = default) =>
        ForkAsync<TResult>(sourceId, inputJson: null, options, cancellationToken);

    /// <summary>Forks <paramref name="sourceId"/> as <see cref="ForkAsync{TResult}(string, ForkOptions?, CancellationToken)"/> does, with a new input.</summary>
    /// <typeparam name="TInput">The workflow's input.</typeparam>
    /// <typeparam name="TResult">The workflow's result.</typeparam>
    /// <param name="sourceId">A completed, failed or cancelled workflow.</param>
    /// <param name="input">The new workflow's input, instead of the source's.</param>
    /// <param name="options">Where to fork from (null: from the top), the new id, a timeout.</param>
    /// <param name="cancellationToken">Stops waiting for the fork (it may still happen).</param>
    /// <exception cref="WorkflowRejectedException">Nothing was started (see the other overload), or the input does not fit the workflow's type.</exception>
    public Task<WorkflowHandle<TResult>> ForkAsync<TInput, TResult>(string sourceId, TInput input, ForkOptions? options = null, CancellationToken cancellationToken = default) =>
        ForkAsync<TResult>(sourceId, JsonSerializer.Serialize(input, Json), options, cancellationToken);

    private async Task<WorkflowHandle<TResult>> ForkAsync<TResult>(string sourceId, string? inputJson, ForkOptions? options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceId);
        options ??= new ForkOptions();
        if (options.Timeout is { } timeout)
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero, "options.Timeout");
        var workflowId = options.WorkflowId ?? ForkOptions.NewId(sourceId);
        var fork = new ForkWorkflow(workflowId, sourceId, options.From, inputJson) { Timeout = options.Timeout };
        var reply = await AskAsync(new BeginFork(fork, Observability.Telemetry.CurrentTraceParent()), cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            WorkflowBegun => new WorkflowHandle<TResult>(this, workflowId),
            WorkflowRejected rejected => throw new WorkflowRejectedException(rejected.WorkflowId, rejected.Reason),
            _ => throw Unexpected(reply),
        };
    }

    /// <summary>A handle on an existing workflow (nothing is checked until it is used).</summary>
    public WorkflowHandle<TResult> GetHandle<TResult>(string workflowId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowId);
        return new WorkflowHandle<TResult>(this, workflowId);
    }

    /// <summary>
    /// Purges every ended workflow (completed, failed, cancelled) that <paramref name="query"/> matches, page by page
    /// (<see cref="PurgeWorkflow"/>: each one's rows in one transaction); running, paused and enqueued ones are left as they are.
    /// </summary>
    /// <param name="query">Which workflows; its <see cref="WorkflowQuery.Limit"/> is the size of each page read.</param>
    /// <param name="withChildren">Also purge the ended child workflows each one started (before it, so that a crash
    /// midway leaves the parent, which names them); a child that still runs is left.</param>
    /// <param name="cancellationToken">Stops after the workflow being purged.</param>
    /// <returns>The ids purged, children included, in the order they were purged.</returns>
    /// <exception cref="ArgumentException">The query asks for running, paused or enqueued workflows only.</exception>
    public Task<IReadOnlyList<string>> PurgeAsync(WorkflowQuery query, bool withChildren = false, CancellationToken cancellationToken = default) =>
        PurgeAsync(query, withChildren, onPurged: null, cancellationToken);

    /// <summary>As the public overload, and <paramref name="onPurged"/> is told of each id once its purge is durable (the CLI prints it).</summary>
    internal async Task<IReadOnlyList<string>> PurgeAsync(WorkflowQuery query, bool withChildren, Action<string>? onPurged, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Status is { } asked && asked.IsActive())
            throw new ArgumentException($"Only ended workflows are purged, not {query.Status.Value.ToString().ToUpperInvariant()} ones.", nameof(query));
        var purged = new List<string>();
        var page = query;
        while (true)
        {
            var found = await DurableWorkflows.ListAsync(_system, page, cancellationToken).ConfigureAwait(false);
            foreach (var workflow in found.Items.Where(w => !w.Status.IsActive()))
                await PurgeAsync(workflow.WorkflowId, withChildren, purged, onPurged, cancellationToken).ConfigureAwait(false);
            if (found.NextCursor is null)
                return purged;
            page = page with { After = found.NextCursor };
        }
    }

    /// <summary>Purges <paramref name="workflowId"/> (its ended children first, when asked); an id gone already counts as purged.</summary>
    private async Task PurgeAsync(string workflowId, bool withChildren, List<string> purged, Action<string>? onPurged, CancellationToken cancellationToken)
    {
        if (withChildren && await StatusAsync(workflowId, cancellationToken).ConfigureAwait(false) is { } status)
        {
            foreach (var child in status.Steps.Select(s => Journal.ChildSignals.StartedBy(s.StepId)).OfType<string>())
            {
                if (await HasEndedAsync(child, cancellationToken).ConfigureAwait(false) != false)
                    await PurgeAsync(child, withChildren, purged, onPurged, cancellationToken).ConfigureAwait(false);
            }
        }
        var reply = await AskAsync(new PurgeWorkflow(workflowId), cancellationToken).ConfigureAwait(false);
        switch (reply)
        {
            case WorkflowPurged:
                purged.Add(workflowId);
                onPurged?.Invoke(workflowId);
                break;
            case WorkflowNotFound:
                // Purged already (a request sent again after a lost reply, or by someone else meanwhile).
                break;
            case WorkflowRejected:
                // It runs again (resumed since it was listed): left, as the running ones are.
                break;
            default:
                throw Unexpected(reply);
        }
    }

    /// <summary>
    /// Sends a command message (<see cref="StartWorkflow"/>, <see cref="SignalWorkflow"/>, <see cref="CancelWorkflow"/>,
    /// …) to the engine and returns its reply, as an actor that sends it would get it; on a cluster it is sent again
    /// until a reply comes (every command is idempotent by its ids).
    /// </summary>
    public Task<object> AskAsync(object message, CancellationToken cancellationToken = default) =>
        AskAsync(message, resend: true, cancellationToken);

    internal Task<object> AskAsync(object message, bool resend, CancellationToken cancellationToken) =>
        Resending.AskAsync(_coordinator, message, resend ? _resendAfter : null, cancellationToken);

    /// <summary>Tells the coordinator; no reply.</summary>
    internal void Tell(object message) => _coordinator.Tell(message, ActorRefs.NoSender);

    /// <summary>The workflow's status read from the journal (whoever wrote it), or null for an unknown id.</summary>
    internal Task<WorkflowStatus?> StatusAsync(string workflowId, CancellationToken cancellationToken) =>
        DurableWorkflows.GetStatusAsync(_system, workflowId, cancellationToken);

    /// <summary>Whether the workflow has ended, from its index row (whoever wrote it); null when the journal keeps no index.</summary>
    internal Task<bool?> HasEndedAsync(string workflowId, CancellationToken cancellationToken) =>
        Inspection.JournalReader.HasEndedAsync(_system, workflowId, cancellationToken);

    internal static InvalidOperationException Unexpected(object reply) => new($"Unexpected reply {reply.GetType().Name}.");
}

/// <summary>A workflow, typed by its result: await it, signal it, cancel it, read its status.</summary>
/// <typeparam name="TResult">The workflow's result.</typeparam>
public sealed class WorkflowHandle<TResult>
{
    private readonly WorkflowClient _client;

    internal WorkflowHandle(WorkflowClient client, string workflowId)
    {
        _client = client;
        WorkflowId = workflowId;
    }

    /// <summary>The workflow's id.</summary>
    public string WorkflowId { get; }

    /// <summary>
    /// Waits until the workflow ends and returns its result, however long it waits for timers, signals or children
    /// (the wait is kept by the host, not by the workflow, which may be put away meanwhile). It runs nothing itself.
    /// </summary>
    /// <exception cref="WorkflowFailedException">The workflow's last run failed (resume it to try again).</exception>
    /// <exception cref="WorkflowCancelledException">The workflow was cancelled.</exception>
    /// <exception cref="WorkflowNotFoundException">No workflow has this id.</exception>
    public async Task<TResult> GetResultAsync(CancellationToken cancellationToken = default)
    {
        var reply = await EndAsync(cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            WorkflowCompleted completed => JsonSerializer.Deserialize<TResult>(completed.ResultJson, _client.Json)!,
            WorkflowFailed failed => throw new WorkflowFailedException(WorkflowId, failed.Error),
            WorkflowCancelled cancelled => throw new WorkflowCancelledException(WorkflowId, cancelled.Reason),
            WorkflowNotFound => throw new WorkflowNotFoundException(WorkflowId),
            _ => throw WorkflowClient.Unexpected(reply),
        };
    }

    /// <summary>
    /// The workflow's end: told by this host's coordinator when a run here ends it, or read from the database, which a
    /// host in another process on the same database writes: every second while the wait lasts, its index row by id
    /// (its events only once the row says it ended; every second on a journal that keeps no index).
    /// </summary>
    private async Task<object> EndAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Not sent again: a resend would add a watcher each time; the database is read every second meanwhile.
        var watch = new WatchWorkflow(WorkflowId, Guid.NewGuid().ToString("N"));
        var watched = _client.AskAsync(watch, resend: false, stop.Token);
        try
        {
            while (true)
            {
                var tick = Task.Delay(EndPollInterval, stop.Token);
                if (await Task.WhenAny(watched, tick).ConfigureAwait(false) == watched)
                    return await watched.ConfigureAwait(false);
                await tick.ConfigureAwait(false);
                if (await ReadEndAsync(stop.Token).ConfigureAwait(false) is { } ended && !ended.Status.IsActive())
                    return ended.Status switch
                    {
                        WorkflowRunStatus.Completed => new WorkflowCompleted(WorkflowId, ended.ResultJson!),
                        WorkflowRunStatus.Cancelled => new WorkflowCancelled(WorkflowId, CancelReason(ended.Error)),
                        _ => new WorkflowFailed(WorkflowId, ended.Error ?? "failed"),
                    };
            }
        }
        finally
        {
            // The watch (or the polling) is not needed any more: a caller that stopped waiting, or that read the end
            // from the database, leaves no watcher behind in the coordinator.
            if (!watched.IsCompletedSuccessfully)
                _client.Tell(new UnwatchWorkflow(WorkflowId, watch.WatchId!));
            await stop.CancelAsync().ConfigureAwait(false);
        }
    }

    private static readonly TimeSpan EndPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>The reason given with a cancellation, from the error a cancelled workflow records (<c>cancelled: reason</c>), as <see cref="WorkflowCancelled"/> has it.</summary>
    private static string? CancelReason(string? error) =>
        error is not null && error.StartsWith(CancelledPrefix, StringComparison.Ordinal) ? error[CancelledPrefix.Length..] : null;

    private const string CancelledPrefix = "cancelled: ";

    /// <summary>
    /// The workflow's status when the database says it ended; null while it runs, and while the database does not
    /// answer (a restarted server, a lost connection): the wait goes on, as the workflow does once it is back.
    /// </summary>
    private async Task<WorkflowStatus?> ReadEndAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await _client.HasEndedAsync(WorkflowId, cancellationToken).ConfigureAwait(false) == false)
                return null;
            return await _client.StatusAsync(WorkflowId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Sends the signal <paramref name="signalName"/>; returns once it is durable.</summary>
    /// <exception cref="WorkflowRejectedException">The workflow has ended, or the name is not valid.</exception>
    /// <exception cref="WorkflowNotFoundException">No workflow has this id.</exception>
    public async Task SignalAsync<TPayload>(string signalName, TPayload payload, CancellationToken cancellationToken = default)
    {
        var json = JsonSerializer.Serialize(payload, _client.Json);
        var signal = new SignalWorkflow(WorkflowId, signalName, json) { DeliveryId = _client.Resends ? Guid.NewGuid().ToString("N") : null };
        var reply = await _client.AskAsync(signal, cancellationToken).ConfigureAwait(false);
        Expect<SignalDelivered>(reply);
    }

    /// <summary>Cancels the workflow; returns once the request is durable (await <see cref="GetResultAsync"/> for its end).</summary>
    /// <exception cref="WorkflowRejectedException">The workflow has already ended.</exception>
    /// <exception cref="WorkflowNotFoundException">No workflow has this id.</exception>
    public async Task CancelAsync(string? reason = null, CancellationToken cancellationToken = default)
    {
        var cancel = new CancelWorkflow(WorkflowId, reason) { DeliveryId = _client.Resends ? Guid.NewGuid().ToString("N") : null };
        var reply = await _client.AskAsync(cancel, cancellationToken).ConfigureAwait(false);
        Expect<CancellationRequested>(reply);
    }

    /// <summary>
    /// Pauses the workflow (<see cref="PauseWorkflow"/>): it begins no new operation until <see cref="UnpauseAsync"/>;
    /// returns once the pause is durable.
    /// </summary>
    /// <exception cref="WorkflowRejectedException">The workflow is not running (it ended or failed).</exception>
    /// <exception cref="WorkflowNotFoundException">No workflow has this id.</exception>
    public async Task PauseAsync(string? reason = null, CancellationToken cancellationToken = default)
    {
        var reply = await _client.AskAsync(new PauseWorkflow(WorkflowId, reason), cancellationToken).ConfigureAwait(false);
        Expect<WorkflowPaused>(reply);
    }

    /// <summary>Ends the workflow's pause; returns once that is durable (the workflow goes on where it stopped).</summary>
    /// <exception cref="WorkflowRejectedException">The workflow is not running (it ended or failed).</exception>
    /// <exception cref="WorkflowNotFoundException">No workflow has this id.</exception>
    public async Task UnpauseAsync(CancellationToken cancellationToken = default)
    {
        var reply = await _client.AskAsync(new UnpauseWorkflow(WorkflowId), cancellationToken).ConfigureAwait(false);
        Expect<WorkflowUnpaused>(reply);
    }

    /// <summary>
    /// Deletes the workflow (<see cref="PurgeWorkflow"/>): its events, index row and signals, in one transaction; returns
    /// once that is durable. Its id may then be started again as a new workflow.
    /// </summary>
    /// <exception cref="WorkflowRejectedException">The workflow is running, paused or enqueued: only ended ones are purged.</exception>
    /// <exception cref="WorkflowNotFoundException">No workflow has this id (or it was purged already).</exception>
    public async Task PurgeAsync(CancellationToken cancellationToken = default)
    {
        var reply = await _client.AskAsync(new PurgeWorkflow(WorkflowId), cancellationToken).ConfigureAwait(false);
        Expect<WorkflowPurged>(reply);
    }

    /// <summary>The workflow's status and step records.</summary>
    /// <exception cref="WorkflowNotFoundException">No workflow has this id.</exception>
    public async Task<WorkflowStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var reply = await _client.AskAsync(new GetWorkflowStatus(WorkflowId), cancellationToken).ConfigureAwait(false);
        return Expect<WorkflowStatus>(reply);
    }

    private T Expect<T>(object reply) => reply switch
    {
        T expected => expected,
        WorkflowRejected rejected => throw new WorkflowRejectedException(WorkflowId, rejected.Reason),
        WorkflowNotFound => throw new WorkflowNotFoundException(WorkflowId),
        _ => throw WorkflowClient.Unexpected(reply),
    };
}
