using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using Durable.Actors.Advanced;
using Durable.Actors.Configuration;
using Durable.Actors.Inspection;
using Durable.Actors.Runtime;
using Durable.Actors.Storage;

namespace Durable.Actors;

/// <summary>Embeds the engine in a plain <see cref="ActorSystem"/>, and reads workflows from the journal.</summary>
/// <example>
/// <code>
/// using var system = ActorSystem.Create("app", DurableWorkflows.CreateSetup(myConfig));
/// var coordinator = DurableWorkflows.Start(system, new WorkflowRegistry().Add("onboarding", () => new Onboarding()));
/// var reply = await coordinator.Ask(new StartWorkflow("wf-1", "onboarding"));
/// </code>
/// </example>
public static class DurableWorkflows
{
    /// <summary>The name of the engine's <see cref="System.Diagnostics.ActivitySource"/>: add it to your tracer (<c>AddSource</c>).</summary>
    public const string ActivitySourceName = "Durable.Actors";

    /// <summary>The name of the engine's <see cref="System.Diagnostics.Metrics.Meter"/>: add it to your meter provider (<c>AddMeter</c>).</summary>
    public const string MeterName = "Durable.Actors";

    /// <summary>The ActorSystem setup for the engine: <paramref name="config"/> over the engine's reference configuration, plus the SQLite persistence plugins.</summary>
    /// <param name="config">Your HOCON; its <c>durable-actors</c> section overrides the defaults in <c>hocon/durable-actors.conf</c>.</param>
    /// <exception cref="ConfigurationException">A <c>durable-actors</c> setting is not valid; the message names it.</exception>
    public static ActorSystemSetup CreateSetup(Config? config = null)
    {
        var user = config ?? Config.Empty;
        var settings = DurableSettings.Create(user);
        var full = user.WithFallback(PersistencePlugins.ToConfig(settings)).WithFallback(DurableSettings.Reference);
        return BootstrapSetup.Create().WithConfig(full).And(PersistencePlugins.ToSetup(settings));
    }

    /// <summary>Checks and prepares the database, then starts the workflow coordinator, which routes <see cref="IWorkflowCommand"/> messages.</summary>
    /// <param name="system">A system created with <see cref="CreateSetup"/> (or configured the same way).</param>
    /// <param name="registry">The workflow types this host runs.</param>
    /// <param name="observer">Told about every step; optional.</param>
    /// <returns>The coordinator.</returns>
    /// <exception cref="DatabaseUnavailableException">The database path is not a SQLite database or cannot be created or opened.</exception>
    public static IActorRef Start(ActorSystem system, WorkflowRegistry registry, IWorkflowObserver? observer = null) =>
        Start(system, registry, observer, EngineHooks.ClockOf(system));

    internal static IActorRef Start(ActorSystem system, WorkflowRegistry registry, IWorkflowObserver? observer, TimeProvider clock, RuntimeHooks? hooks = null,
        Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(registry);
        var settings = PersistencePlugins.Bind(system);
        DateTimeOffset? aloneSince = null;
        // The SQLite file, its tables and the host lease beside it exist only in the SQLite storage profile.
        if (settings.Storage == StorageProfile.Sqlite)
            SqliteDatabase.Prepare(settings);
        if (settings.Storage == StorageProfile.Sqlite && settings.DatabasePath is { } path)
        {
            var lease = HostLease.Acquire(path, clock);
            system.RegisterOnTermination(lease.Dispose);
            aloneSince = lease.AloneSince;
        }
        var runtime = CreateRuntime(system, registry, observer, clock, aloneSince, hooks, loggerFactory: loggerFactory);
        // Akka starts its scheduler on first use and blocks the calling thread until the timer thread runs. When that
        // first use is a thousand workflow actors starting their recovery at once on the thread pool, every pool
        // thread blocks there and the host stalls for seconds while the pool grows. Start it here, once.
        system.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(1), static () => { });
        var coordinator = system.ActorOf(Props.Create(() => new WorkflowCoordinatorActor(runtime, null)), "durable-workflows");
        WorkflowClient.Register(system, coordinator, registry);
        if (runtime.Settings.Retention.Periods().Any())
            system.ActorOf(Props.Create(() => new RetentionSweeper(runtime, WorkflowClient.Of(system), coordinator)), "durable-retention");
        if (settings.UsesEngineSqlite)
        {
            // The schedules' table was created with the journal's (SqliteDatabase.Prepare).
            // Of the hosts on one file, the holder of a lock file beside it admits the queues, and of another fires the schedules.
            var lead = settings.DatabasePath is { } file
                ? (Func<string, Func<IDisposable?>>)(job => () => HostLease.TryTake($"{file}-{job}.lock"))
                : null;
            StartFlowControl(system, runtime, registry, new SqliteSideTables(settings.ConnectionString, settings.BusyTimeout), coordinator, clock,
                (props, name) => system.ActorOf(props, name), rewatchEvery: null, lead);
        }
        return coordinator;
    }

    /// <summary>
    /// Starts the scheduler and the queue dispatcher over the side tables <paramref name="tables"/>, through
    /// <paramref name="host"/> (an actor of this system on one machine; a cluster singleton and its proxy on a cluster,
    /// null for a member that hosts no workflows: only the proxy), and gives the client the schedules' and queues' clients.
    /// <paramref name="rewatchEvery"/> is how often the dispatcher asks again to be told of the ends of the workflows it
    /// admitted (on a cluster, a watch is lost with the node of its workflow); null for never. <paramref name="lead"/>
    /// gives, for a job (<c>queues</c>, <c>schedules</c>), how its actor takes its turn among the hosts of one file;
    /// null where it runs alone.
    /// </summary>
    internal static void StartFlowControl(ActorSystem system, WorkflowRuntime? runtime, WorkflowRegistry registry, SideTables tables, IActorRef coordinator,
        TimeProvider clock, Func<Props?, string, IActorRef> host, TimeSpan? rewatchEvery, Func<string, Func<IDisposable?>>? lead = null)
    {
        var settings = PersistencePlugins.Bind(system);
        var client = WorkflowClient.Of(system);
        var store = new Scheduling.ScheduleStore(tables);
        var (scheduling, admitting) = (lead?.Invoke("schedules"), lead?.Invoke("queues"));
        var scheduler = settings.SchedulesEnabled
            ? host(runtime is null ? null : Props.Create(() => new Scheduling.Scheduler(store, client, clock, settings.ScheduleRefresh, scheduling)), "durable-schedules")
            : ActorRefs.Nobody;
        client.ScheduleClient = new ScheduleClient(store, client, scheduler, clock);
        // Queues declared in HOCON win over those of the code (operators tune limits without a build).
        var queues = new Dictionary<string, QueueOptions>(registry.Queues, StringComparer.Ordinal);
        foreach (var (name, options) in settings.Queues)
            queues[name] = options;
        var queueStore = new Queues.QueueStore(tables);
        var dispatcher = settings.QueueDispatch
            ? host(runtime is null ? null : Props.Create(() => new Queues.QueueDispatcher(queueStore, queues, client, coordinator, clock, settings.QueueRefresh, rewatchEvery, admitting)),
                "durable-queues")
            : ActorRefs.Nobody;
        if (runtime is not null)
        {
            runtime.QueueDispatcher = dispatcher;
            runtime.ReleasesSlot = name => queues.TryGetValue(name, out var queue) && queue.ReleaseSlotWhileSleeping;
        }
        client.QueueClient = new QueueClient(queueStore, queues, client, dispatcher, clock);
    }

    /// <summary>What every workflow actor of this host shares; also used by cluster mode, which starts its coordinators as sharded entities.</summary>
    internal static WorkflowRuntime CreateRuntime(ActorSystem system, WorkflowRegistry registry, IWorkflowObserver? observer, TimeProvider clock,
        DateTimeOffset? aloneSince = null, RuntimeHooks? hooks = null, INodeMembership? membership = null,
        Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null, TimeSpan? resendAfter = null, TimeSpan? childRecheckAfter = null)
    {
        var settings = PersistencePlugins.Bind(system);
        var stopping = new CancellationTokenSource();
        system.RegisterOnTermination(stopping.Cancel);
        var runtime = new WorkflowRuntime(settings, registry, observer, clock, aloneSince, Logging.GetLogger(system, "Durable.Actors"))
        {
            Hooks = RuntimeHooks.With(hooks ?? RuntimeHooks.None, EngineHooks.Of(system)),
            Membership = membership,
            Logger = loggerFactory?.CreateLogger(Observability.WorkflowLog.Category),
            ResendAfter = resendAfter,
            ChildRecheckAfter = childRecheckAfter,
            Stopping = stopping.Token,
            IdleMemory = settings.ReleaseMemoryWhenIdle is { } idleFor ? new IdleMemory(idleFor, TimeProvider.System, Logging.GetLogger(system, "Durable.Actors")) : null,
        };
        if (runtime.IdleMemory is { } idleMemory)
            system.RegisterOnTermination(idleMemory.Dispose);
        system.RegisterOnTermination(() => Observability.Gauges.Forget(runtime));
        return runtime;
    }

    /// <summary>The typed client of the engine started in <paramref name="system"/>: start workflows and get handles on them.</summary>
    /// <exception cref="InvalidOperationException">The engine was not started in this system.</exception>
    public static WorkflowClient Client(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        return WorkflowClient.Of(system);
    }

    /// <summary>Reads one workflow's status and step records from the journal; null when the id is unknown.</summary>
    /// <remarks>
    /// On the engine's own SQLite journal it reads that workflow's rows only, with one indexed query; on another
    /// journal plugin, through Akka.Persistence.Query.
    /// </remarks>
    public static Task<WorkflowStatus?> GetStatusAsync(ActorSystem system, string workflowId, CancellationToken cancellationToken = default) =>
        JournalReader.GetStatusAsync(system, workflowId, cancellationToken);

    /// <summary>
    /// Reads one workflow's status with what the status leaves out (its input, when each run started, its parent) from
    /// the journal; null when the id is unknown.
    /// </summary>
    public static Task<WorkflowDetail?> GetDetailAsync(ActorSystem system, string workflowId, CancellationToken cancellationToken = default) =>
        JournalReader.GetDetailAsync(system, workflowId, cancellationToken);

    /// <summary>
    /// How many workflows have each status, from the workflow index (statuses that no workflow has are absent); null on
    /// a journal plugin that keeps no index.
    /// </summary>
    public static Task<IReadOnlyDictionary<WorkflowRunStatus, long>?> CountByStatusAsync(ActorSystem system, CancellationToken cancellationToken = default) =>
        JournalReader.CountByStatusAsync(system, cancellationToken);

    /// <summary>The ids of workflows that were started and neither completed nor failed: what recovery-on-start resumes.</summary>
    public static Task<IReadOnlyList<string>> GetPendingAsync(ActorSystem system, CancellationToken cancellationToken = default) =>
        JournalReader.GetPendingAsync(system, cancellationToken);

    /// <summary>Reads every workflow's status with all its steps, ordered by id.</summary>
    /// <remarks>
    /// Reads every workflow's events: its cost grows with the whole journal. To list workflows, use
    /// <see cref="ListAsync(ActorSystem, WorkflowQuery, CancellationToken)"/>, which reads one page of the workflow index.
    /// </remarks>
    public static Task<IReadOnlyList<WorkflowStatus>> ListAsync(ActorSystem system, CancellationToken cancellationToken = default) =>
        JournalReader.ListAllAsync(system, cancellationToken);

    /// <summary>One page of workflows, newest first, filtered by <paramref name="query"/>; its cursor reads the next page.</summary>
    /// <remarks>
    /// On the engine's own SQLite journal it reads the workflow index, a table written in the same transaction as the
    /// events it reflects, so it is never out of date, even after a crash (a database without it gets it built from
    /// the journal first). In cluster mode on PostgreSQL it reads the same index there, written by the cluster's own
    /// write journal in the same way. On another journal plugin there is no index: every workflow's events are read through
    /// Akka.Persistence.Query and folded, then filtered and paged in memory, so the cost grows with the whole journal.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The limit is not from 1 to <see cref="WorkflowQuery.MaxLimit"/>.</exception>
    /// <exception cref="ArgumentException"><see cref="WorkflowQuery.After"/> is not a cursor this method returned.</exception>
    public static Task<WorkflowPage> ListAsync(ActorSystem system, WorkflowQuery query, CancellationToken cancellationToken = default) =>
        JournalReader.ListAsync(system, query, cancellationToken);
}
