using System.Collections.Concurrent;
using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cluster;

/// <summary>
/// Heartbeats on a cluster: a node joins, buckets move to it, and the bodies of steps that heartbeat on the first node
/// run past the hand-off's limit (they ignore their token). The first node stays up, a member, so the zombie rule
/// leaves those steps to the timeout: the node that joined runs them once their heartbeat timeout passed since the last
/// heartbeat recorded, long before the stale timeout (10 minutes here), and goes on from the last details.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class HeartbeatClusterSpec : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private const int Workflows = 16;
    private readonly List<ActorSystem> _systems = [];
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, int> _beats = new(StringComparer.Ordinal);
    private string _postgres = "";

    public async Task InitializeAsync() => _postgres = await PostgresServer.NewDatabaseAsync();

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        foreach (var system in Enumerable.Reverse(_systems))
            await system.Terminate().WaitAsync(Timeout);
    }

    private WorkflowRegistry Copying() => new WorkflowRegistry().Add<string, string>("copy", (ctx, _) =>
        ctx.StepAsync("copy-files", async _ =>
        {
            var step = StepExecution.Current;
            var from = step.GetHeartbeatDetails<int>();
            if (step.Attempt == 1)
            {
                // A file every 100 ms, ignoring the token, until the test lets the first attempts end.
                for (var file = 1; !_release.Task.IsCompleted; file++)
                {
                    await Task.Delay(100, CancellationToken.None);
                    step.Heartbeat(file);
                    _beats[step.WorkflowId] = file;
                }
            }
            return $"went on from file {from} in attempt {step.Attempt}";
        }, new StepOptions { HeartbeatTimeout = TimeSpan.FromSeconds(5), Retry = RetryPolicy.None }));

    private async Task<(ActorSystem System, IActorRef Region)> NodeAsync(int port, int seedPort, IWorkflowObserver? observer = null)
    {
        // A move waits for running bodies at most handoff-timeout less 5 s: 2 s here.
        var node = await ClusterNodes.StartAsync(_postgres, port, seedPort, Copying(), observer: observer, extraHocon: """
            durable-actors.stale-timeout = 10m
            akka.cluster.sharding.rebalance-interval = 1s
            akka.cluster.sharding.handoff-timeout = 7s
            """);
        _systems.Add(node.System);
        return node;
    }

    [Fact]
    public async Task StepOfAMemberNodeWhoseHeartbeatsAreNoLongerRecorded_RunsOnTheNewHomeAfterItsHeartbeatTimeout_FromItsLastDetails()
    {
        var seed = ClusterNodes.FreePort();
        var (first, region) = await NodeAsync(seed, seed);
        for (var i = 0; i < Workflows; i++)
            region.Tell(new StartWorkflow($"copy-{i}", "copy"), ActorRefs.Nobody);
        await Until(() => _beats.Count == Workflows, "every workflow's first heartbeat");

        // A node joins: half the buckets move to it (16 workflows: some are in them, but for a chance of 1 in 2^16 per distinct
        // bucket); the first attempts on the first node run on, past the hand-off's limit.
        var secondAttempts = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var observer = new RecordingObserver
        {
            OnReport = r => { if (r is { Kind: StepReportKind.Starting, Attempt: 2 }) secondAttempts[r.WorkflowId] = true; },
        };
        var (second, _) = await NodeAsync(ClusterNodes.FreePort(), seed, observer);
        await Until(() => !secondAttempts.IsEmpty, "a step run again on the node that joined");
        var firstNode = Akka.Cluster.Cluster.Get(first).SelfAddress;
        Assert.Contains(Akka.Cluster.Cluster.Get(second).State.Members, m => m.Address == firstNode && m.Status == Akka.Cluster.MemberStatus.Up);

        _release.SetResult();
        foreach (var id in Enumerable.Range(0, Workflows).Select(i => $"copy-{i}"))
            await Until(async () => (await DurableWorkflows.GetStatusAsync(second, id))?.Status == WorkflowRunStatus.Completed, $"{id} completed");

        foreach (var id in secondAttempts.Keys)
        {
            var status = (await DurableWorkflows.GetStatusAsync(second, id))!;
            var step = Assert.Single(status.Steps);
            Assert.Equal(2, step.Attempts);
            Assert.Contains("no heartbeat for", Assert.Single(step.Failures).Error);
            Assert.Matches(@"^""went on from file [1-9]\d* in attempt 2""$", status.ResultJson);
        }
    }

    private static Task Until(Func<bool> condition, string what) => Polling.UntilAsync(condition, what, Timeout);

    private static Task Until(Func<Task<bool>> condition, string what) => Polling.UntilAsync(condition, what, Timeout);
}
