using Akka.Actor;
using Durable.Actors.Cluster;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cluster;

/// <summary>
/// A pause and a deadline outlive the node that held the workflow: the node dies (no graceful leave), its buckets move
/// to the survivors, and there the paused workflow stays paused until it is unpaused, while the one whose deadline
/// passed during the failover is cancelled as timed out.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class PauseFailoverSpec : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly List<ActorSystem> _systems = [];
    private readonly EffectRecorder _effects = new();
    private string _postgres = "";

    public async Task InitializeAsync() => _postgres = await PostgresServer.NewDatabaseAsync();

    public async Task DisposeAsync()
    {
        foreach (var system in Enumerable.Reverse(_systems))
            await system.Terminate().WaitAsync(Timeout);
    }

    private WorkflowRegistry Registry() => new WorkflowRegistry()
        .Add<string, string>("approval", async (ctx, _) =>
        {
            await ctx.StepAsync("submit", () => { _effects.Record("submit"); return "submitted"; });
            var by = (await ctx.WaitForSignalAsync<string>("approve")).Payload;
            return await ctx.StepAsync("pay", () => { _effects.Record("pay"); return $"paid, approved by {by}"; });
        })
        .Add<string, string>("booking", async (ctx, _) =>
        {
            await ctx.StepAsync("book", () => { _effects.Record("book"); return "booked"; });
            try
            {
                await ctx.SleepAsync(TimeSpan.FromDays(1));
                return "guests came";
            }
            finally
            {
                await ctx.StepAsync("release", () => { _effects.Record("release"); return "released"; });
            }
        });

    [Fact]
    public async Task NodeOfAPausedWorkflowDies_TheSurvivorKeepsItPausedUntilUnpaused_AndCancelsTheOneWhoseDeadlinePassed()
    {
        var seed = ClusterNodes.FreePort();
        var survivor = await ClusterNodes.StartAsync(_postgres, seed, seed, Registry());
        _systems.Add(survivor.System);
        // A third node, so that the survivors are the majority that the split-brain resolver keeps.
        var other = await ClusterNodes.StartAsync(_postgres, ClusterNodes.FreePort(), seed, Registry());
        _systems.Add(other.System);
        var doomed = await ClusterNodes.StartAsync(_postgres, ClusterNodes.FreePort(), seed, Registry(),
            extraHocon: "akka.coordinated-shutdown.run-by-actor-system-terminate = off");
        _systems.Add(doomed.System);
        var doomedBuckets = (await ClusterNodes.PlacedAsync(Timeout, doomed.Region, survivor.Region, other.Region))[0];
        var buckets = new Buckets(32);
        var ids = Enumerable.Range(0, 1000).Select(i => $"id-{i}").Where(id => doomedBuckets.Contains(buckets.Of(id))).ToList();
        var (claimId, roomId) = (ids[0], ids[1]);

        var client = DurableWorkflows.Client(survivor.System);
        var claim = await client.StartAsync<string, string>("approval", claimId, "x");
        await AwaitAsync(async () => (await claim.GetStatusAsync()).WaitingFor is not null);
        await claim.PauseAsync("audit");
        // Its deadline passes while the cluster fails over (failing over takes longer than this).
        var room = await client.StartAsync<string, string>("booking", roomId, "x", new StartOptions { Timeout = TimeSpan.FromSeconds(5) });
        await AwaitAsync(async () => (await room.GetStatusAsync()).WaitingFor is not null);

        await doomed.System.Terminate().WaitAsync(Timeout);

        // The deadline passed while the cluster failed over: the survivor that recovers the bucket cancels it.
        var cancelled = await Assert.ThrowsAsync<WorkflowCancelledException>(() => room.GetResultAsync().WaitAsync(Timeout));
        Assert.StartsWith("timed out", cancelled.Reason);
        Assert.Equal((1, 1), (_effects.Count("book"), _effects.Count("release")));
        // The signal reaches the workflow's new home, which keeps it paused: it takes no signal and runs no step.
        await claim.SignalAsync("approve", "grace").WaitAsync(Timeout);
        var status = await claim.GetStatusAsync();
        Assert.Equal(WorkflowRunStatus.Paused, status.Status);
        Assert.Equal(0, _effects.Count("pay"));

        await claim.UnpauseAsync();

        Assert.Equal("paid, approved by grace", await claim.GetResultAsync().WaitAsync(Timeout));
        Assert.Equal((1, 1), (_effects.Count("submit"), _effects.Count("pay")));
    }

    private static async Task AwaitAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(100);
        }
    }
}
