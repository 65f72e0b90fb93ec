using Akka.Actor;
using Durable.Actors.Cluster;
using Durable.Actors.Runtime;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cluster;

/// <summary>
/// A child's end reaches its parent on a cluster whatever node dies: the child's node dies right after the child's
/// end is durable and before its message to the parent leaves, and the parent, on a surviving node, still learns it
/// (it asks the child again now and then), once.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class ChildEndSpec : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly List<ActorSystem> _systems = [];
    private readonly EffectRecorder _counter = new();
    private string _postgres = "";

    public async Task InitializeAsync() => _postgres = await PostgresServer.NewDatabaseAsync();

    public async Task DisposeAsync()
    {
        foreach (var system in Enumerable.Reverse(_systems))
            await system.Terminate().WaitAsync(Timeout);
    }

    private WorkflowRegistry Registry() => new WorkflowRegistry()
        .Add<string, string>("parent", async (ctx, childId) =>
            "child said " + await ctx.RunChildAsync<string, string>("child", "x", childId))
        .Add<string, string>("child", async (ctx, _) => await ctx.StepAsync("work", () => { _counter.Record("work"); return "done"; }));

    [Fact]
    public async Task ChildsNodeDiesAfterItsEndIsDurable_BeforeItsMessageLeaves_TheParentOnASurvivorStillCompletes()
    {
        var seed = ClusterNodes.FreePort();
        const string fast = "durable-actors.cluster.child-recheck-interval = 1s";
        var survivor = await ClusterNodes.StartAsync(_postgres, seed, seed, Registry(), extraHocon: fast);
        _systems.Add(survivor.System);
        // A third node, so that the survivors are the majority that the split-brain resolver keeps.
        var other = await ClusterNodes.StartAsync(_postgres, ClusterNodes.FreePort(), seed, Registry(), extraHocon: fast);
        _systems.Add(other.System);
        // The child's node: its message to the parent is dropped, and the node then dies (no graceful leave).
        var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hooks = new RuntimeHooks
        {
            ChildEndedSending = _ =>
            {
                dropped.TrySetResult();
                return false;
            },
        };
        var doomed = await ClusterNodes.StartAsync(_postgres, ClusterNodes.FreePort(), seed, Registry(), hooks: hooks,
            extraHocon: fast + "\nakka.coordinated-shutdown.run-by-actor-system-terminate = off");
        _systems.Add(doomed.System);

        // Every bucket placed: a parent id of the survivor's, a child id of the doomed node's.
        var placed = await ClusterNodes.PlacedAsync(Timeout, survivor.Region, doomed.Region, other.Region);
        var (survivorBuckets, doomedBuckets) = (placed[0], placed[1]);
        var buckets = new Buckets(32);
        var ids = Enumerable.Range(0, 1000).Select(i => $"id-{i}").ToList();
        var parentId = ids.First(id => survivorBuckets.Contains(buckets.Of(id)));
        var childId = ids.First(id => doomedBuckets.Contains(buckets.Of(id)));

        var parent = await DurableWorkflows.Client(survivor.System).StartAsync<string, string>("parent", parentId, childId);
        await dropped.Task.WaitAsync(Timeout);
        await doomed.System.Terminate().WaitAsync(Timeout);

        Assert.Equal("child said done", await parent.GetResultAsync().WaitAsync(Timeout));
        Assert.Equal(1, _counter.Count("work"));
    }
}
