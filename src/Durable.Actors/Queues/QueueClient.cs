using System.Text.Json;
using Akka.Actor;
using Durable.Actors.Queues;
using Durable.Actors.Runtime;

namespace Durable.Actors;

/// <summary>
/// The queues of the engine's SQLite file (<see cref="WorkflowClient.Queues"/>): how each stands. Enqueue with
/// <see cref="WorkflowClient.EnqueueAsync{TInput, TResult}"/> or the <see cref="EnqueueWorkflow"/> message.
/// </summary>
public sealed class QueueClient
{
    private readonly QueueStore _store;
    private readonly IReadOnlyDictionary<string, QueueOptions> _queues;
    private readonly WorkflowClient _client;
    private readonly IActorRef _dispatcher;
    private readonly TimeProvider _clock;

    internal QueueClient(QueueStore store, IReadOnlyDictionary<string, QueueOptions> queues, WorkflowClient client, IActorRef dispatcher, TimeProvider clock)
    {
        _store = store;
        _queues = queues;
        _client = client;
        _dispatcher = dispatcher;
        _clock = clock;
    }

    /// <summary>The queues this host declares, by name.</summary>
    public IReadOnlyList<QueueOptions> Declared => _queues.Values.OrderBy(q => q.Name, StringComparer.Ordinal).ToList();

    /// <summary>How the queue stands: its enqueued workflows and those that run, per key.</summary>
    /// <exception cref="KeyNotFoundException">This host declares no queue of that name.</exception>
    public async Task<QueueInfo> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var options = _queues.GetValueOrDefault(name) ?? throw UnknownQueue(name);
        var entries = await Task.Run(() => _store.Live(name), cancellationToken).ConfigureAwait(false);
        return Info(options, entries, _clock.GetUtcNow());
    }

    /// <summary>How every declared queue stands, by name.</summary>
    public async Task<IReadOnlyList<QueueInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var entries = await Task.Run(() => _store.Live(null), cancellationToken).ConfigureAwait(false);
        var now = _clock.GetUtcNow();
        return Declared.Select(q => Info(q, entries.Where(e => e.Queue == q.Name).ToList(), now)).ToList();
    }

    internal static QueueInfo Info(QueueOptions options, IReadOnlyList<QueueEntry> live, DateTimeOffset now)
    {
        var running = live.Where(e => e.AdmittedAt is not null).ToList();
        var byKey = running.Where(e => e.Key is not null).GroupBy(e => e.Key!, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var next = live.Where(e => e.AdmittedAt is null && e.NotBefore > now).Select(e => e.NotBefore).Min();
        return new QueueInfo(options, live.Count - running.Count, running.Count, byKey, next);
    }

    private static KeyNotFoundException UnknownQueue(string name) => new($"No queue is declared with the name '{name}'.");

    /// <summary>
    /// Enqueues the workflow and returns the id of the one enqueued (the first's when the deduplication id is in use),
    /// once that is durable.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown queue or bad options (the message names what).</exception>
    /// <exception cref="WorkflowRejectedException">Nothing was enqueued: unknown type, input of the wrong shape, invalid id.</exception>
    internal async Task<string> EnqueueAsync(string workflowType, string workflowId, string? inputJson, EnqueueOptions options, string? traceParent,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowType);
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowId);
        ArgumentNullException.ThrowIfNull(options);
        if (!_queues.ContainsKey(options.Queue))
            throw new ArgumentException($"Unknown queue '{options.Queue}' (declared: {(_queues.Count == 0 ? "none" : string.Join(", ", _queues.Keys.Order(StringComparer.Ordinal)))}).");
        options.Check();
        var registry = _client.Registry;
        var input = inputJson ?? "null";
        // Checked here when this member runs workflows; a cluster member that runs none leaves it to the workflow's
        // node, whose rejection of the start takes the entry back.
        if (registry.WorkflowTypes.Count > 0)
        {
            if (!registry.TryGet(workflowType, out var definition))
                throw new WorkflowRejectedException(workflowId,
                    $"unknown workflow type '{workflowType}' (registered: {string.Join(", ", registry.WorkflowTypes.Order(StringComparer.Ordinal))})");
            if (definition.ValidateInput(input, registry.JsonOptions) is { } inputError)
                throw new WorkflowRejectedException(workflowId, inputError);
        }
        var now = _clock.GetUtcNow();
        var entry = options.Debounce is { } debounce
            ? new QueueEntry(0, workflowId, options.Queue, options.Key, options.Priority, now, now + debounce.Period, workflowType, input, options.Timeout)
            {
                Debounced = true,
                DebounceUntil = debounce.MaxWait is { } most ? now + most : null,
            }
            : new QueueEntry(0, workflowId, options.Queue, options.Key, options.Priority, now,
                options.NotBefore ?? (options.Delay is { } delay ? now + delay : null), workflowType, input, options.Timeout);
        var (held, added) = await _store.AddAsync(entry, options.DeduplicationId).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (!added)
        {
            if (held.Debounced)
                _dispatcher.Tell(new QueueDispatcher.Rescheduled(held));
            return held.WorkflowId;
        }
        var reply = await _client.AskAsync(new BeginWorkflow(workflowId, workflowType, input, null, traceParent, options.Timeout, Queue: options.Queue),
            cancellationToken).ConfigureAwait(false);
        switch (reply)
        {
            case WorkflowBegun:
                _dispatcher.Tell(new QueueDispatcher.Enqueued(held));
                return workflowId;
            case WorkflowRejected rejected:
                await Task.Run(() => _store.Remove(held.Seq), CancellationToken.None).ConfigureAwait(false);
                throw new WorkflowRejectedException(rejected.WorkflowId, rejected.Reason);
            default:
                throw WorkflowClient.Unexpected(reply);
        }
    }

    /// <summary>The reply to <see cref="EnqueueWorkflow"/>: <see cref="WorkflowEnqueued"/> or <see cref="WorkflowRejected"/>.</summary>
    internal async Task<object> ReplyAsync(EnqueueWorkflow enqueue)
    {
        try
        {
            var id = await EnqueueAsync(enqueue.WorkflowType, enqueue.WorkflowId, enqueue.InputJson, enqueue.Options,
                Observability.Telemetry.CurrentTraceParent(), CancellationToken.None).ConfigureAwait(false);
            return new WorkflowEnqueued(id);
        }
        catch (WorkflowRejectedException e)
        {
            return new WorkflowRejected(enqueue.WorkflowId ?? "", e.Reason);
        }
        catch (ArgumentException e)
        {
            return new WorkflowRejected(enqueue.WorkflowId ?? "", e.Message);
        }
    }
}
