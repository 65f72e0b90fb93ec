using System.Collections.Concurrent;
using Akka.Actor;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cluster;

/// <summary>
/// Queues and schedules on a cluster: two workflow nodes and a member that hosts none, on one PostgreSQL database. The
/// queue's limits hold across the nodes (one dispatcher for the cluster), enqueues from any member are admitted, an
/// enqueued workflow is cancelled without running, and a schedule created on one member ticks once per tick.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class FlowControlClusterSpec : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private const string Queues = "durable-actors.queues.q { concurrency = 3, key-concurrency = 1 }";

    private readonly List<ActorSystem> _systems = [];
    private readonly AtOnce _atOnce = new();
    private readonly ConcurrentQueue<string> _ran = new();
    private string _postgres = "";

    public async Task InitializeAsync() => _postgres = await PostgresServer.NewDatabaseAsync();

    public async Task DisposeAsync()
    {
        foreach (var system in Enumerable.Reverse(_systems))
            await system.Terminate().WaitAsync(Timeout);
    }

    /// <summary><c>job</c> runs one step of 50 ms that counts how many run at once, in all and per key (its input).</summary>
    private WorkflowRegistry Registry() => new WorkflowRegistry()
        .Add<string, string>("job", async (ctx, key) => await ctx.StepAsync("work", async ct =>
        {
            _ran.Enqueue(ctx.WorkflowId);
            return await _atOnce.RunAsync(async () =>
            {
                await Task.Delay(50, ct);
                return key;
            }, "all", "key:" + key);
        }));

    [Fact]
    public async Task QueueLimitsHoldAcrossNodes_EnqueuesFromAnyMemberRun_AndAScheduleTicksOncePerTick()
    {
        var seed = ClusterNodes.FreePort();
        var first = await ClusterNodes.StartAsync(_postgres, seed, seed, Registry(), extraHocon: Queues);
        _systems.Add(first.System);
        var second = await ClusterNodes.StartAsync(_postgres, ClusterNodes.FreePort(), seed, Registry(), extraHocon: Queues);
        _systems.Add(second.System);
        var member = await ClusterNodes.StartAsync(_postgres, ClusterNodes.FreePort(), seed, new WorkflowRegistry(), hostsWorkflows: false, extraHocon: Queues);
        _systems.Add(member.System);
        await ClusterNodes.PlacedAsync(Timeout, first.Region, second.Region);

        // 30 workflows over 3 keys, enqueued from all three members at once: their workflows run on both nodes.
        var clients = _systems.Select(DurableWorkflows.Client).ToList();
        var handles = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => clients[i % 3].EnqueueAsync<string, string>(
            "job", $"w{i}", $"k{i % 3}", new EnqueueOptions("q") { Key = $"k{i % 3}" }))).WaitAsync(Timeout);
        // The message, for actor code: sent to the shard region of the member that hosts no workflows.
        Assert.Equal("by-message", (await member.Region.Ask<WorkflowEnqueued>(
            new EnqueueWorkflow("by-message", "job", "\"k2\"", new EnqueueOptions("q") { Key = "k2" }), Timeout)).WorkflowId);
        // One that waits behind the others, cancelled before its admission: none of its code runs.
        var cancelled = await clients[2].EnqueueAsync<string, string>("job", "late", "k0", new EnqueueOptions("q") { Key = "k0", Priority = 9 });
        await cancelled.CancelAsync("not needed");

        foreach (var (handle, i) in handles.Select((h, i) => (h, i)))
            Assert.Equal($"k{i % 3}", await handle.GetResultAsync().WaitAsync(Timeout));
        Assert.Equal(WorkflowRunStatus.Cancelled, (await DurableWorkflows.GetStatusAsync(member.System, "late"))!.Status);
        Assert.DoesNotContain("late", _ran);
        Assert.Equal("k2", await DurableWorkflows.Client(member.System).GetHandle<string>("by-message").GetResultAsync().WaitAsync(Timeout));
        Assert.Equal(31, _ran.Distinct().Count());
        Assert.Equal(1, _atOnce.Most("key:k0"));
        Assert.Equal(1, _atOnce.Most("key:k1"));
        Assert.Equal(1, _atOnce.Most("key:k2"));
        Assert.InRange(_atOnce.Most("all"), 1, 3);
        var info = await clients[1].Queues.GetAsync("q");
        Assert.Equal((0, 0), (info.Enqueued, info.Running));

        // A schedule created on the member that hosts no workflows: the cluster's one scheduler fires each tick once.
        await clients[2].Schedules.CreateAsync(new ScheduleSpec("every-second", "job") { Every = TimeSpan.FromSeconds(1), InputJson = "\"s\"" });
        IReadOnlyList<WorkflowSummary> ticks = [];
        await Polling.UntilAsync(async () =>
        {
            ticks = (await DurableWorkflows.ListAsync(member.System, new WorkflowQuery { IdPrefix = "every-second@", Status = WorkflowRunStatus.Completed })).Items;
            return ticks.Count >= 2;
        }, "two ticks completed", Timeout);
        await clients[0].Schedules.DeleteAsync("every-second");
        Assert.All(ticks, t => Assert.Single(_ran, id => id == t.WorkflowId));
    }
}
