using System.Globalization;
using System.Text;
using Akka;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using Akka.Event;
using Durable.Actors.Advanced;
using Durable.Actors.Configuration;
using Durable.Actors.Runtime;
using Npgsql;

namespace Durable.Actors.Cluster;

/// <summary>
/// Runs the engine on a cluster: workflows are spread over the nodes with Akka.Cluster.Sharding and journaled by
/// Akka.Persistence.Sql on PostgreSQL. The same workflow classes, registry, client and messages as on one machine.
/// </summary>
/// <example>
/// <code>
/// var config = ConfigurationFactory.ParseString("""
///     akka.remote.dot-netty.tcp.port = 4053
///     akka.cluster.seed-nodes = ["akka.tcp://durable@127.0.0.1:4053"]
///     akka.cluster.roles = ["workflows"]
///     durable-actors.sql.connection-string = "Host=127.0.0.1;Port=5432;Username=postgres;Database=durable"
///     """);
/// using var system = ActorSystem.Create("durable", DurableCluster.CreateSetup(config));
/// var region = DurableCluster.Start(system, registry);   // route IWorkflowCommand messages to it, or use the client
/// </code>
/// </example>
public static class DurableCluster
{
    /// <summary>The shard region's type name.</summary>
    public const string TypeName = "durable-workflows";

    /// <summary>
    /// The cluster defaults (embedded <c>cluster.conf</c>), the serializer of the engine's messages, and sharding's and
    /// Distributed Data's reference configuration. A node joins as soon as its system starts, before <c>Start</c>
    /// (or when <c>Start</c> refuses it): without their serializers from the start, the other nodes' gossip could
    /// not be read and was logged as a deserialization warning every two seconds.
    /// </summary>
    internal static Config Defaults { get; } = ConfigurationFactory.FromResource<ClusterMessageSerializer>("Durable.Actors.Cluster.cluster.conf")
        .WithFallback(SerializerConfig())
        .WithFallback(ClusterSharding.DefaultConfig());

    /// <summary>The ActorSystem setup of a cluster node: <paramref name="config"/> over the cluster defaults and the engine's reference configuration.</summary>
    /// <param name="config">Your HOCON: seed nodes, port, roles, <c>durable-actors.sql.connection-string</c>.</param>
    public static ActorSystemSetup CreateSetup(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var full = config.WithFallback(Defaults);
        return DurableWorkflows.CreateSetup(full.WithFallback(PostgresStorage(full))).And(IndexSetup);
    }

    /// <summary>
    /// The workflow index on PostgreSQL as the source of listing, counts and recovery, read while the journal is the
    /// engine's own (which <see cref="PostgresStorage"/> sets on PostgreSQL).
    /// </summary>
    internal static Inspection.WorkflowIndexSetup IndexSetup { get; } = new(system => new Storage.PostgresWorkflowIndex(system));

    /// <summary>
    /// On PostgreSQL, the engine's own journal (the workflow index written in the events' transaction, and read through
    /// <see cref="IndexSetup"/>); on another provider nothing (Akka.Persistence.Sql's journal, read through
    /// Akka.Persistence.Query). Goes under <paramref name="config"/>, which may set the key itself.
    /// </summary>
    internal static Config PostgresStorage(Config config)
    {
        var provider = config.WithFallback(DurableSettings.Reference).GetString("durable-actors.sql.provider-name", "");
        if (!provider.StartsWith("PostgreSQL", StringComparison.OrdinalIgnoreCase))
            return Config.Empty;
        static string Name(Type type) => DurableWorkflowsOptions.Quote($"{type.FullName}, {type.Assembly.GetName().Name}");
        return ConfigurationFactory.ParseString(
            $"durable-actors.sql.journal-class = {Name(typeof(Storage.PostgresWriteJournal))}\n");
    }

    /// <summary>
    /// Checks that the database answers, then starts this node's part of the cluster: the shard region of the
    /// workflows (a proxy on a node without the <c>durable-actors.cluster.role</c>), and the typed client.
    /// </summary>
    /// <returns>The shard region, which routes <see cref="IWorkflowCommand"/> messages to the workflow's node.</returns>
    /// <exception cref="DatabaseUnavailableException">PostgreSQL does not answer; the message names its host and port.</exception>
    /// <exception cref="ConfigurationException">
    /// The storage profile is not <c>sql</c>, or <c>durable-actors.cluster.buckets</c> differs from the count the
    /// database's cluster runs (recorded by its first node); the node then leaves the cluster it joined.
    /// </exception>
    public static IActorRef Start(ActorSystem system, WorkflowRegistry registry, IWorkflowObserver? observer = null) =>
        Start(system, registry, observer, loggerFactory: null);

    /// <summary>
    /// As the public overload, with the logger factory of a host (Akka.Hosting) for the workflows' and steps' log events,
    /// and the engine's test hooks.
    /// </summary>
    internal static IActorRef Start(ActorSystem system, WorkflowRegistry registry, IWorkflowObserver? observer,
        Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory, RuntimeHooks? hooks = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(registry);
        var settings = PersistencePlugins.Bind(system);
        if (settings.Storage != StorageProfile.Sql)
            throw new ConfigurationException("Cluster mode stores workflows with Akka.Persistence.Sql: set durable-actors.storage = sql (DurableCluster.CreateSetup does).");
        EnsureReachable(settings);

        var config = system.Settings.Config.GetConfig("durable-actors.cluster");
        var buckets = new Buckets(config.GetInt("buckets", 32));
        if (buckets.Count < 1)
            throw new ConfigurationException($"durable-actors.cluster.buckets must be 1 or more, not {buckets.Count}.");
        try
        {
            EnsureSameBucketCount(settings, buckets.Count);
        }
        catch (ConfigurationException)
        {
            // A node with seed nodes joins on its own once its system started: leave, so that a refused node does not
            // stay a member that hosts nothing yet counts in the split-brain resolver's and Distributed Data's majorities.
            // A leave sent while the join is under way is dropped, so leave again once the node is up.
            var self = Akka.Cluster.Cluster.Get(system);
            self.Leave(self.SelfAddress);
            self.RegisterOnMemberUp(() => self.Leave(self.SelfAddress));
            throw;
        }
        var role = config.GetString("role", "workflows");
        var interval = config.GetTimeSpan("ensure-buckets-interval", TimeSpan.FromSeconds(1));
        var after = config.GetTimeSpan("ensure-buckets-after", TimeSpan.FromSeconds(30));
        var resendAfter = config.GetTimeSpan("client-resend-after", TimeSpan.FromSeconds(5));
        var childRecheck = config.GetTimeSpan("child-recheck-interval", TimeSpan.FromSeconds(30));

        var cluster = Akka.Cluster.Cluster.Get(system);
        WarnOfRoleMinimum(system, cluster, role);
        var sharding = ClusterSharding.Get(system);
        IActorRef region;
        WorkflowRuntime? hosted = null;
        if (cluster.SelfRoles.Contains(role))
        {
            var runtime = hosted = DurableWorkflows.CreateRuntime(system, registry, observer, EngineHooks.ClockOf(system), hooks: hooks, membership: new NodeMembership(cluster),
                loggerFactory: loggerFactory, resendAfter: resendAfter, childRecheckAfter: childRecheck);
            var bucketSettings = BucketSettings(system, role);
            region = sharding.Start(
                TypeName,
                bucketId =>
                {
                    var bucket = int.Parse(bucketId, CultureInfo.InvariantCulture);
                    return Props.Create(() => new WorkflowCoordinatorActor(runtime, id => buckets.Of(id) == bucket, new Inspection.RecoveryPartition(bucket, buckets.Count)));
                },
                bucketSettings,
                buckets,
                sharding.DefaultShardAllocationStrategy(bucketSettings),
                // A bucket that moves (a node joined, or leaves gracefully) drains its workflows and hands their callers on.
                HandOffBucket.Instance);
            // Child workflows and their parents may live in other buckets: workflows reach each other through the region.
            runtime.Coordinator = region;
            // What a moving bucket hands on is sent again until the workflow's new home has it; a leaving node waits for that.
            var relay = system.ActorOf(Props.Create(() => new HandOnRelay(region, role, TypeName)), "durable-hand-on");
            runtime.HandOnRelay = relay;
            var shutdown = CoordinatedShutdown.Get(system);
            var bound = shutdown.Timeout(CoordinatedShutdown.PhaseClusterExiting) - TimeSpan.FromSeconds(1);
            shutdown.AddTask(CoordinatedShutdown.PhaseClusterExiting, "durable-hand-on", async () =>
            {
                try
                {
                    await relay.Ask<Done>(HandOnRelay.AwaitNonePending.Instance, bound > TimeSpan.FromSeconds(1) ? bound : TimeSpan.FromSeconds(1));
                }
                catch (AskTimeoutException)
                {
                    system.Log.Warning("Leaving with requests handed on that their workflows' new homes have not acknowledged");
                }
                return Done.Instance;
            });
            system.ActorOf(Props.Create(() => new BucketKeeper(region, role, buckets.Count, interval, after)), "durable-bucket-keeper");
        }
        else
        {
            region = sharding.StartProxy(TypeName, role, buckets);
        }
        WorkflowClient.Register(system, region, registry, resendAfter);
        if (settings.SqlProviderName.StartsWith("PostgreSQL", StringComparison.OrdinalIgnoreCase))
        {
            // Schedules and queues: their tables beside the journal, their scheduler and dispatcher one singleton each.
            DurableWorkflows.StartFlowControl(system, hosted, registry, new Storage.PostgresSideTables(settings.SqlConnectionString), region, EngineHooks.ClockOf(system),
                (props, name) => Singleton(system, props, name, role), rewatchEvery: childRecheck);
        }
        // Every workflow node sweeps (purging an id twice answers the second NotFound): no node is the one that must stay.
        if (hosted is { } sweeping && settings.Retention.Periods().Any())
        {
            var client = WorkflowClient.Of(system);
            system.ActorOf(Props.Create(() => new RetentionSweeper(sweeping, client, coordinator: null)), "durable-retention");
        }
        return region;
    }

    /// <summary>
    /// One actor of the cluster (the oldest <paramref name="role"/> node's, moved to the next oldest when that node is
    /// lost or leaves) and this member's proxy to it, which keeps messages while it moves; a proxy alone when
    /// <paramref name="props"/> is null (a member that hosts no workflows).
    /// </summary>
    private static IActorRef Singleton(ActorSystem system, Props? props, string name, string role)
    {
        if (props is not null)
            system.ActorOf(ClusterSingletonManager.Props(props, PoisonPill.Instance, ClusterSingletonManagerSettings.Create(system).WithRole(role)), name);
        return system.ActorOf(ClusterSingletonProxy.Props($"/user/{name}", ClusterSingletonProxySettings.Create(system).WithRole(role)), name + "-proxy");
    }

    /// <summary>
    /// What the buckets rely on, set here and not only in <c>cluster.conf</c>: Akka.Hosting puts sharding's own defaults in
    /// front of ours. The coordinator's state (which node hosts which bucket) in Distributed Data, replicated to every
    /// workflow node: in Akka.NET's default "persistence" mode it went to the default journal, in memory, so a
    /// coordinator that moved with a lost oldest node started empty and placed again buckets that were running, which
    /// then ran on two nodes at once. Nothing durable is needed: without remembered entities that state matters only while
    /// the regions holding the buckets live. Buckets are never passivated by sharding: each passivates its workflows.
    /// </summary>
    private static ClusterShardingSettings BucketSettings(ActorSystem system, string role) =>
        ClusterShardingSettings.Create(system)
            .WithRole(role)
            .WithStateStoreMode(StateStoreMode.DData)
            .WithRememberEntities(false)
            .WithPassivateIdleAfter(TimeSpan.Zero);

    /// <summary>
    /// The shard coordinator takes <c>akka.cluster.role.&lt;role&gt;.min-nr-of-members</c> as the number of shard regions
    /// that must register before it places any shard, and a new coordinator checks it again: when the oldest node (the
    /// coordinator's) is lost and fewer such nodes remain, no bucket is placed again, the lost node's workflows never
    /// resume. <c>akka.cluster.min-nr-of-members</c> holds a cold start the same way without that.
    /// </summary>
    private static void WarnOfRoleMinimum(ActorSystem system, Akka.Cluster.Cluster cluster, string role)
    {
        if (cluster.Settings.MinNrOfMembersOfRole.TryGetValue(role, out var minimum) && minimum > 1)
            system.Log.Warning(
                "akka.cluster.role.{0}.min-nr-of-members = {1}: if the oldest node is lost and fewer than {1} {0} nodes remain, the shard coordinator never places the lost node's buckets again and its workflows do not resume; use akka.cluster.min-nr-of-members to hold a cold start instead",
                role, minimum);
    }

    /// <summary>
    /// Records this node's bucket count in the database when none is recorded (the first node of a cluster, or the
    /// first to start on a database written before the count was recorded), and refuses a node whose count differs
    /// from the recorded one: an id maps to a bucket by the count, so two counts would make two buckets, on two nodes,
    /// host one workflow, with only the journal's unique sequence numbers between them. Checked before the node hosts
    /// anything, on proxy-only members too (their region routes by the count). On another provider nothing is recorded.
    /// </summary>
    private static void EnsureSameBucketCount(DurableSettings settings, int buckets)
    {
        if (!settings.SqlProviderName.StartsWith("PostgreSQL", StringComparison.OrdinalIgnoreCase))
            return;
        var mine = buckets.ToString(CultureInfo.InvariantCulture);
        string recorded;
        using (var connection = Open(settings, out var where))
        {
            try
            {
                recorded = Storage.PostgresSchema.RecordSettingAsync(connection, Storage.PostgresSchema.BucketsSetting, mine, CancellationToken.None)
                    .GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                throw new DatabaseUnavailableException(where, $"PostgreSQL at {where} failed while reading the recorded bucket count: {e.GetBaseException().Message}", e);
            }
        }
        if (recorded != mine)
            throw new ConfigurationException(
                $"durable-actors.cluster.buckets = {mine} on this node, but the cluster on this database runs {recorded} buckets " +
                $"(recorded by its first node in durable_settings): set durable-actors.cluster.buckets = {recorded}; " +
                "nodes with different counts would run one workflow on two nodes at once");
    }

    /// <summary>Opens one connection, so that an unreachable PostgreSQL fails the start with one line naming it.</summary>
    internal static void EnsureReachable(DurableSettings settings)
    {
        if (!settings.SqlProviderName.StartsWith("PostgreSQL", StringComparison.OrdinalIgnoreCase))
            return;
        Open(settings, out _).Dispose();
    }

    /// <summary>An open connection to the configured PostgreSQL; <paramref name="where"/> is its host and port, for messages.</summary>
    private static NpgsqlConnection Open(DurableSettings settings, out string where)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(settings.SqlConnectionString);
        }
        catch (ArgumentException e)
        {
            throw new ConfigurationException($"durable-actors.sql.connection-string is not a PostgreSQL connection string: {e.Message}");
        }
        where = $"{builder.Host}:{builder.Port.ToString(CultureInfo.InvariantCulture)}";
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Timeout = 5, Pooling = false }.ConnectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            connection.Dispose();
            throw new DatabaseUnavailableException(where, $"PostgreSQL at {where} is unreachable: {e.GetBaseException().Message}", e);
        }
    }

    private static Config SerializerConfig()
    {
        var name = typeof(ClusterMessageSerializer).FullName + ", " + typeof(ClusterMessageSerializer).Assembly.GetName().Name;
        var hocon = new StringBuilder();
        hocon.AppendLine(CultureInfo.InvariantCulture, $"akka.actor.serializers.durable-actors-messages = \"{name}\"");
        hocon.AppendLine(CultureInfo.InvariantCulture, $"akka.actor.serialization-identifiers {{ \"{name}\" = {ClusterMessageSerializer.Id} }}");
        hocon.AppendLine("akka.actor.serialization-bindings {");
        foreach (var type in ClusterMessageSerializer.Bound)
            hocon.AppendLine(CultureInfo.InvariantCulture, $"  \"{type.FullName}, {type.Assembly.GetName().Name}\" = durable-actors-messages");
        hocon.AppendLine("}");
        return ConfigurationFactory.ParseString(hocon.ToString());
    }
}
