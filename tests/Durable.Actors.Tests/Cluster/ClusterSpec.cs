using Akka.Actor;
using Akka.Persistence;
using Durable.Actors.Cluster;
using Durable.Actors.Configuration;
using Durable.Actors.Journal;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cluster;

/// <summary>
/// Cluster mode in one process: workflow nodes and a proxy-only member on loopback ports, the journal in a fresh
/// PostgreSQL database. The same samples, client and messages as on one machine.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class ClusterSpec : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempFolder _folder = new();
    private readonly List<ActorSystem> _systems = [];
    private string _postgres = "";

    public async Task InitializeAsync() => _postgres = await PostgresServer.NewDatabaseAsync();

    public async Task DisposeAsync()
    {
        // Youngest first: stopping several nodes at once can hang their hand-off.
        foreach (var system in Enumerable.Reverse(_systems))
            await system.Terminate().WaitAsync(Timeout);
    }

    public void Dispose() => _folder.Dispose();

    private async Task<(ActorSystem System, IActorRef Region)> NodeAsync(int port, int seedPort, WorkflowRegistry registry, bool hostsWorkflows = true,
        IWorkflowObserver? observer = null, string extraHocon = "")
    {
        var node = await ClusterNodes.StartAsync(_postgres, port, seedPort, registry, hostsWorkflows, observer, extraHocon);
        _systems.Add(node.System);
        return node;
    }

    private WorkflowRegistry Samples() => SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog(_folder.File("effects.log")));

    [Fact]
    public async Task Samples_RunOnAClusterNode_ThroughTheClientOfAProxyOnlyMember()
    {
        var port = ClusterNodes.FreePort();
        await NodeAsync(port, port, Samples());
        var (proxy, _) = await NodeAsync(ClusterNodes.FreePort(), port, Samples(), hostsWorkflows: false);
        var client = DurableWorkflows.Client(proxy);

        // The onboarding sample, unchanged: started and awaited from a member that hosts no workflow.
        var onboarding = await client.StartAsync<NewHire, OnboardingResult>("onboarding", "hire-1", NewHire.Default);
        var result = await onboarding.GetResultAsync().WaitAsync(Timeout);
        Assert.NotEmpty(result!.EmployeeId);

        // Child workflows: their ids hash to other buckets, reached through the shard region.
        var batch = await client.StartAsync<ReportBatchRequest, int>("report-batch", "batch-1", ReportBatchRequest.Default);
        Assert.True(await batch.GetResultAsync().WaitAsync(Timeout) > 0);

        // A workflow that waits for a signal, signalled from the proxy.
        var approval = await client.StartAsync<ExpenseRequest, string>("approval", "exp-1", ExpenseRequest.Default);
        await approval.SignalAsync("decision", new ExpenseDecision(true, "grace")).WaitAsync(Timeout);
        Assert.StartsWith("paid", await approval.GetResultAsync().WaitAsync(Timeout), StringComparison.Ordinal);

        // Status reads the workflow's events from PostgreSQL; listing reads the workflow index there.
        var status = await DurableWorkflows.GetStatusAsync(proxy, "hire-1");
        Assert.Equal(WorkflowRunStatus.Completed, status!.Status);
        Assert.All(status.Steps, s => Assert.Equal(1, s.Attempts));
        var page = await DurableWorkflows.ListAsync(proxy, new WorkflowQuery { Status = WorkflowRunStatus.Completed });
        Assert.Contains("batch-1", page.Items.Select(i => i.WorkflowId));
        Assert.Equal(["exp-1", "hire-1"], page.Items.Where(i => i.WorkflowType != "report" && i.WorkflowType != "report-batch").Select(i => i.WorkflowId).Order(StringComparer.Ordinal));
        Assert.Equal(1, TestSupport.Cli.Effects(_folder.Path).Count(l => l == "exp-1 pay"));

        // A fork, from the proxy: the node of the new id reads the source's events from PostgreSQL and carries them.
        var fork = await client.ForkAsync<OnboardingResult>("hire-1", new ForkOptions { From = "hire-1:4", WorkflowId = "hire-1b" }).WaitAsync(Timeout);
        Assert.Equal(result.EmployeeId, (await fork.GetResultAsync().WaitAsync(Timeout)).EmployeeId);
        Assert.Equal(["hire-1b send-welcome-email"], TestSupport.Cli.Effects(_folder.Path).Where(l => l.StartsWith("hire-1b ", StringComparison.Ordinal)));
        Assert.Equal("hire-1", (await fork.GetStatusAsync().WaitAsync(Timeout)).ForkedFrom);
    }

    private const string ZombieType = "zombie";

    private static WorkflowRegistry Zombies(EffectRecorder counter) => new WorkflowRegistry().Add<string, string>(ZombieType, async (ctx, _) =>
        await ctx.StepAsync("work", () =>
        {
            counter.Record("work");
            return "done";
        }));

    /// <summary>Writes what a node leaves when it dies during a step: the workflow's start and the step's IN_PROGRESS record, by <paramref name="node"/>.</summary>
    private static async Task LeaveInProgressAsync(ActorSystem system, string workflowId, string node)
    {
        var now = DateTimeOffset.UtcNow;
        var writer = system.ActorOf(Props.Create(() => new EventWriter(
            Runtime.WorkflowActor.PersistenceIdPrefix + workflowId,
            new object[] { new WorkflowStarted(ZombieType, "\"x\"", now), new StepStarted(workflowId + ":1", "work", 1, now, node) })));
        Assert.Equal("written", await writer.Ask<string>("write", Timeout));
    }

    [Fact]
    public async Task InProgressStep_OfANodeTheClusterRemoved_RunsAgainAtOnce_OfALiveMember_WaitsForTheStaleTimeout()
    {
        var counter = new EffectRecorder();
        var waiting = new TaskCompletionSource<StepReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new RecordingObserver { OnReport = r => { if (r.Kind == StepReportKind.Waiting) waiting.TrySetResult(r); } };
        var port = ClusterNodes.FreePort();
        // A stale timeout far longer than the test: only the cluster's membership can make a step run again.
        var (host, region) = await NodeAsync(port, port, Zombies(counter), observer: observer, extraHocon: "durable-actors.stale-timeout = 1h");
        var (member, _) = await NodeAsync(ClusterNodes.FreePort(), port, Zombies(counter), hostsWorkflows: false);

        // Left by a node incarnation that is no member (removed): the step runs again at once, as a new attempt.
        await LeaveInProgressAsync(host, "gone-1", "akka.tcp://durable@127.0.0.1:1#4242");
        var reply = await region.Ask<object>(new ResumeWorkflow("gone-1"), Timeout);
        Assert.Equal("\"done\"", Assert.IsType<WorkflowCompleted>(reply).ResultJson);
        Assert.Equal(1, counter.Count("work"));
        var step = Assert.Single((await DurableWorkflows.GetStatusAsync(host, "gone-1"))!.Steps);
        Assert.Equal(2, step.Attempts);
        Assert.Contains("which the cluster has removed", Assert.Single(step.Failures).Error, StringComparison.Ordinal);

        // Left by a node that is still a member (it may still be running the step): never run twice at once.
        var live = NodeMembership.Format(Akka.Cluster.Cluster.Get(member).SelfUniqueAddress);
        await LeaveInProgressAsync(host, "live-1", live);
        region.Tell(new ResumeWorkflow("live-1"), ActorRefs.NoSender);
        var report = await waiting.Task.WaitAsync(Timeout);
        Assert.Equal("live-1", report.WorkflowId);
        Assert.Contains("turns stale", report.Detail, StringComparison.Ordinal);
        Assert.Equal(1, counter.Count("work"));
        var status = await DurableWorkflows.GetStatusAsync(host, "live-1");
        Assert.Equal(StepStatus.InProgress, Assert.Single(status!.Steps).Status);
    }

    [Fact]
    public async Task Signal_SentAgainWithItsDeliveryId_IsDeliveredOnce()
    {
        var port = ClusterNodes.FreePort();
        var registry = new WorkflowRegistry().Add<string, string>("waiter", async (ctx, _) =>
        {
            var first = await ctx.WaitForSignalAsync<string>("note");
            return first.Payload!;
        });
        var (_, region) = await NodeAsync(port, port, registry);
        Assert.IsType<Runtime.WorkflowBegun>(await region.Ask<object>(new Runtime.BeginWorkflow("w-1", "waiter", "\"x\"", null), Timeout));

        // A resend (the client's retry after a reply lost with a node) of a signal already received: answered again, not
        // delivered again; the workflow took it once and ended, so a second delivery would have been refused.
        var signal = new SignalWorkflow("w-1", "note", "\"hello\"") { DeliveryId = "d-1" };
        Assert.IsType<SignalDelivered>(await region.Ask<object>(signal, Timeout));
        Assert.Equal("\"hello\"", Assert.IsType<WorkflowCompleted>(await region.Ask<object>(new ResumeWorkflow("w-1"), Timeout)).ResultJson);
        Assert.IsType<SignalDelivered>(await region.Ask<object>(signal, Timeout));
        Assert.IsType<WorkflowRejected>(await region.Ask<object>(signal with { DeliveryId = "d-2" }, Timeout));
    }

    [Fact]
    public async Task RoleMinimumOfMembers_IsWarnedOf_ALostOldestNodeWouldLeaveItsBucketsUnplaced()
    {
        var port = ClusterNodes.FreePort();
        var config = Akka.Configuration.ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{port}} }
            akka.cluster.roles = ["workflows"]
            akka.cluster.role.workflows.min-nr-of-members = 3
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            durable-actors.sql.connection-string = "{{_postgres}}"
            """);
        var system = ActorSystem.Create("durable", DurableCluster.CreateSetup(config));
        _systems.Add(system);
        var warned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        system.EventStream.Subscribe(system.ActorOf(Props.Create(() => new LogWatcher(
            "akka.cluster.role.workflows.min-nr-of-members = 3: if the oldest node is lost", warned))), typeof(Akka.Event.Warning));
        DurableCluster.Start(system, Samples());
        await warned.Task.WaitAsync(Timeout);
    }

    [Fact]
    public async Task ServeCluster_WithPostgresUnreachable_ExitsWithOneLineNamingHostAndPort()
    {
        var closed = ClusterNodes.FreePort();
        var result = await TestSupport.Cli.RunAsync(_folder.Path, "serve", "--cluster", "--port", ClusterNodes.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--postgres", $"Host=127.0.0.1;Port={closed};Username=postgres;Database=durable");
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith($"error: PostgreSQL at 127.0.0.1:{closed} is unreachable", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeWithAnotherBucketCount_IsRefusedBeforeItHostsAnything_NamingBothCountsAndTheSetting()
    {
        var port = ClusterNodes.FreePort();
        var (first, _) = await NodeAsync(port, port, Samples());

        // A second node of the same cluster, started with 16 buckets where the first runs the default 32.
        var otherPort = ClusterNodes.FreePort();
        var config = Akka.Configuration.ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{otherPort}} }
            akka.cluster.seed-nodes = ["{{ClusterNodes.Address(port)}}"]
            akka.cluster.roles = ["workflows"]
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            durable-actors.sql.connection-string = "{{_postgres}}"
            durable-actors.cluster.buckets = 16
            """);
        var other = ActorSystem.Create("durable", DurableCluster.CreateSetup(config));
        _systems.Add(other);
        var removed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Akka.Cluster.Cluster.Get(other).RegisterOnMemberRemoved(() => removed.TrySetResult());
        var refused = Assert.Throws<Akka.Configuration.ConfigurationException>(() => DurableCluster.Start(other, Samples()));
        Assert.StartsWith("durable-actors.cluster.buckets = 16 on this node, but the cluster on this database runs 32 buckets", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);

        // It leaves the cluster it had joined on its own, hosts nothing and has no client; the first node runs workflows as before.
        await removed.Task.WaitAsync(Timeout);
        var region = await other.ActorSelection("/system/sharding/" + DurableCluster.TypeName).Ask<ActorIdentity>(new Identify(1), Timeout);
        Assert.Null(region.Subject);
        Assert.Throws<InvalidOperationException>(() => DurableWorkflows.Client(other));
        var handle = await DurableWorkflows.Client(first).StartAsync<NewHire, OnboardingResult>("onboarding", "hire-1", NewHire.Default);
        Assert.NotEmpty((await handle.GetResultAsync().WaitAsync(Timeout))!.EmployeeId);
    }

    [Fact]
    public async Task NodeThatJoinedButHasNotStarted_ReadsTheClustersGossip_WithoutDeserializationWarnings()
    {
        var port = ClusterNodes.FreePort();
        await NodeAsync(port, port, Samples());

        // A node that joined and has not (or will never, if refused) started its part: sharding's Distributed Data on
        // the first node gossips to it. The gossip must be read (and dropped, as nothing there receives it), not fail.
        var config = Akka.Configuration.ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{ClusterNodes.FreePort()}} }
            akka.cluster.seed-nodes = ["{{ClusterNodes.Address(port)}}"]
            akka.cluster.roles = ["workflows"]
            durable-actors.sql.connection-string = "{{_postgres}}"
            """);
        var joined = ActorSystem.Create("durable", DurableCluster.CreateSetup(config));
        _systems.Add(joined);
        var gossip = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listener = joined.ActorOf(Props.Create(() => new GossipListener(gossip)));
        joined.EventStream.Subscribe(listener, typeof(Akka.Event.Warning));
        joined.EventStream.Subscribe(listener, typeof(Akka.Event.AllDeadLetters));

        Assert.Equal("read", await gossip.Task.WaitAsync(Timeout));
    }

    /// <summary>"read" once a message for sharding's replicator arrived as a dead letter; the warning if one failed to deserialize.</summary>
    private sealed class GossipListener : ReceiveActor
    {
        public GossipListener(TaskCompletionSource<string> gossip)
        {
            Receive<Akka.Event.Warning>(w =>
            {
                if (w.Message?.ToString()?.Contains("Deserialization failed", StringComparison.Ordinal) == true)
                    gossip.TrySetResult(w.Message.ToString()!);
            });
            Receive<Akka.Event.AllDeadLetters>(d =>
            {
                if ($"{d.Recipient.Path} {d.Message}".Contains("Replicator", StringComparison.Ordinal))
                    gossip.TrySetResult("read");
            });
        }
    }

    [Fact]
    public async Task ServeCluster_WithAnotherBucketCount_ExitsWithOneLineNamingBothCounts()
    {
        var port = ClusterNodes.FreePort();
        await NodeAsync(port, port, Samples());
        var file = _folder.File("buckets.conf");
        await File.WriteAllTextAsync(file, "durable-actors.cluster.buckets = 64");

        var result = await TestSupport.Cli.RunAsync(_folder.Path, "serve", "--cluster", "--port", ClusterNodes.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--seed", $"127.0.0.1:{port}", "--postgres", _postgres, "--config", file);

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("error: durable-actors.cluster.buckets = 64 on this node, but the cluster on this database runs 32 buckets", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatabaseWithWorkflowsButNoRecordedBucketCount_TakesTheCountOfItsFirstNode_AndItsWaitingWorkflowGoesOn()
    {
        // Workflows written by a cluster of 32 buckets, one of them waiting for a signal; then every node stopped.
        var port = ClusterNodes.FreePort();
        var (before, _) = await NodeAsync(port, port, Samples());
        await DurableWorkflows.Client(before).StartAsync<ExpenseRequest, string>("approval", "exp-1", ExpenseRequest.Default);
        var hire = await DurableWorkflows.Client(before).StartAsync<NewHire, OnboardingResult>("onboarding", "hire-1", NewHire.Default);
        await hire.GetResultAsync().WaitAsync(Timeout);
        await before.Terminate().WaitAsync(Timeout);
        // As a database written before the count was recorded.
        await using (var connection = new Npgsql.NpgsqlConnection(_postgres))
        {
            await connection.OpenAsync();
            await using var drop = new Npgsql.NpgsqlCommand("DROP TABLE durable_settings", connection);
            await drop.ExecuteNonQueryAsync();
        }

        // The first node to start records its count, 16, and the waiting workflow resumes in its bucket of 16.
        var newPort = ClusterNodes.FreePort();
        var (after, _) = await NodeAsync(newPort, newPort, Samples(), extraHocon: "durable-actors.cluster.buckets = 16");
        var approval = DurableWorkflows.Client(after).GetHandle<string>("exp-1");
        await approval.SignalAsync("decision", new ExpenseDecision(true, "grace")).WaitAsync(Timeout);
        Assert.StartsWith("paid", await approval.GetResultAsync().WaitAsync(Timeout), StringComparison.Ordinal);
        Assert.Equal(WorkflowRunStatus.Completed, (await DurableWorkflows.GetStatusAsync(after, "hire-1"))!.Status);
        await using (var connection = new Npgsql.NpgsqlConnection(_postgres))
        {
            await connection.OpenAsync();
            await using var read = new Npgsql.NpgsqlCommand("SELECT value FROM durable_settings WHERE name = 'durable-actors.cluster.buckets'", connection);
            Assert.Equal("16", await read.ExecuteScalarAsync());
        }
    }

    /// <summary>Persists events under a workflow's persistence id, as a node would have.</summary>
    private sealed class EventWriter : ReceivePersistentActor
    {
        public EventWriter(string persistenceId, object[] events)
        {
            PersistenceId = persistenceId;
            JournalPluginId = PersistencePlugins.JournalPath;
            SnapshotPluginId = PersistencePlugins.SnapshotPath;
            Command<string>(_ =>
            {
                var sender = Sender;
                PersistAll(events, _ => { });
                DeferAsync("written", w => sender.Tell(w));
            });
        }

        public override string PersistenceId { get; }
    }
}
