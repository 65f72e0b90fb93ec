using System.Collections.Concurrent;
using Akka.Actor;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Cluster;

/// <summary>
/// Scaling out and a rolling restart under load: a node joins (sharding moves buckets to it) and then the first node
/// leaves gracefully (every bucket it hosts moves), while callers wait on workflows whose step bodies ignore their
/// token. Every caller gets its workflow's result from the workflow's new home, and no step body runs twice. The first
/// hand-on of each even-numbered workflow's caller is lost, as sharding loses it when a bucket moves again before it
/// arrived (a CI run found two callers unanswered that way): the node's relay sends it again.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class ScalingSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(150);
    private const int Workflows = 40;
    private const int Steps = 12;
    private readonly List<ActorSystem> _systems = [];
    private string _postgres = "";

    // Step bodies of every node run in this process: how many run now per step key, the most at once, how often each began.
    private readonly ConcurrentDictionary<string, int> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _mostAtOnce = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _began = new(StringComparer.Ordinal);
    // The workflows whose caller's first hand-on was lost.
    private readonly ConcurrentDictionary<string, bool> _lost = new(StringComparer.Ordinal);

    public async Task InitializeAsync() => _postgres = await PostgresServer.NewDatabaseAsync();

    public async Task DisposeAsync()
    {
        foreach (var system in Enumerable.Reverse(_systems))
            await system.Terminate().WaitAsync(Timeout);
    }

    private WorkflowRegistry Slow() => new WorkflowRegistry().Add<int, int>("slow", async (ctx, steps) =>
    {
        var sum = 0;
        for (var i = 1; i <= steps; i++)
        {
            var key = $"{ctx.WorkflowId}:{i}";
            var step = i;
#pragma warning disable DURABLE0008 // Each step is named after its number; the same on every run.
            sum += await ctx.StepAsync($"work-{step}", _ => WorkAsync(key, step));
#pragma warning restore DURABLE0008
        }
        return sum;
    });

    private async Task<int> WorkAsync(string key, int step)
    {
        _began.AddOrUpdate(key, 1, (_, n) => n + 1);
        var now = _running.AddOrUpdate(key, 1, (_, n) => n + 1);
        _mostAtOnce.AddOrUpdate(key, now, (_, n) => Math.Max(n, now));
        // Work that does not observe the step's token (as a call to a remote API may not): it runs to its end.
        await Task.Delay(TimeSpan.FromMilliseconds(800), CancellationToken.None);
        _running.AddOrUpdate(key, 0, (_, n) => n - 1);
        return step;
    }

    private async Task<(ActorSystem System, IActorRef Region)> NodeAsync(int port, int seedPort, bool hostsWorkflows = true, IWorkflowObserver? observer = null)
    {
        // Sharding looks for an uneven spread every second here (10 s by default) so that the test is short. A leaving
        // node drains all its buckets within the cluster-sharding-shutdown-region phase (10 s by default; the cluster README
        // says to raise it above the longest step). On a loaded machine the drain of 40 workflows may take longer: the
        // test is about the drain, not that bound: 60 s here.
        var hooks = new Durable.Actors.Runtime.RuntimeHooks { HandOnLost = Lose };
        var node = await ClusterNodes.StartAsync(_postgres, port, seedPort, Slow(), hostsWorkflows, observer, """
            akka.cluster.sharding.rebalance-interval = 1s
            akka.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout = 60s
            """, hooks);
        _systems.Add(node.System);
        return node;
    }

    private bool Lose(Durable.Actors.Runtime.HandedOn handed) =>
        handed.Message is StartWorkflow && int.Parse(handed.WorkflowId[2..], System.Globalization.CultureInfo.InvariantCulture) % 2 == 0
        && _lost.TryAdd(handed.WorkflowId, true);

    [Fact]
    public async Task NodeJoinsThenTheFirstLeavesGracefully_UnderLoad_EveryCallerGetsItsResult_NoStepBodyRunsTwice()
    {
        var seed = ClusterNodes.FreePort();
        var (first, _) = await NodeAsync(seed, seed);
        var (_, proxy) = await NodeAsync(ClusterNodes.FreePort(), seed, hostsWorkflows: false);

        // Callers on a member that hosts no workflow, each waiting on its workflow's end (no resend).
        var callers = Enumerable.Range(0, Workflows)
            .Select(i => proxy.Ask<object>(new StartWorkflow($"w-{i}", "slow", Steps.ToString(System.Globalization.CultureInfo.InvariantCulture)), Timeout))
            .ToList();
        await Until(() => _began.Count >= Workflows, "every workflow running its first step");

        // A node joins: buckets move to it while their workflows' bodies run.
        var onJoiner = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var joinerObserver = new StepsSeen(onJoiner);
        await NodeAsync(ClusterNodes.FreePort(), seed, observer: joinerObserver);
        await Until(() => !onJoiner.IsEmpty, "a step run on the node that joined");
        var failedByTheJoin = callers.Where(c => c.IsCompleted && (c.IsFaulted || c.Result is not WorkflowCompleted)).ToList();
        Assert.True(failedByTheJoin.Count == 0, "callers failed when a node joined: " + string.Join("; ", failedByTheJoin.Select(c => c.IsFaulted ? c.Exception!.Message : c.Result.ToString())));

        // The first node leaves gracefully: every bucket it still hosts moves to the node that joined.
        await CoordinatedShutdown.Get(first).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).WaitAsync(Timeout);

        try
        {
            await Task.WhenAll(callers).WaitAsync(Timeout);
        }
        catch (Exception)
        {
            // Where each workflow whose caller got no answer stands in the journal, read from the node that remains.
            foreach (var i in Enumerable.Range(0, Workflows).Where(i => !callers[i].IsCompletedSuccessfully))
            {
                var status = await DurableWorkflows.GetStatusAsync(_systems[^1], $"w-{i}");
                var last = status is { Steps: [.., var step] } ? $"{step.Key} {step.StepId} {step.Status} x{step.Attempts}" : "none";
                output.WriteLine($"no answer for w-{i}: {status?.Status.ToString() ?? "not found"}, {status?.Steps.Count ?? 0} steps, last {last}");
            }
            throw;
        }
        var replies = await Task.WhenAll(callers);
        var wrong = replies.Select((r, i) => (i, r)).Where(x => x.r is not WorkflowCompleted).ToList();
        Assert.True(wrong.Count == 0, "callers that did not get a result: " + string.Join("; ", wrong.Select(w => $"w-{w.i}: {w.r}")));
        Assert.All(replies, r => Assert.Equal(Steps * (Steps + 1) / 2, ((WorkflowCompleted)r).GetResult<int>()));
        var twice = _mostAtOnce.Where(p => p.Value > 1).Select(p => p.Key).ToList();
        Assert.True(twice.Count == 0, "step bodies run twice at once: " + string.Join(", ", twice));
        var again = _began.Where(p => p.Value > 1).Select(p => $"{p.Key} x{p.Value}").ToList();
        Assert.True(again.Count == 0, "step bodies begun more than once: " + string.Join(", ", again));
        Assert.Equal(Workflows * Steps, _began.Count);
        Assert.NotEmpty(_lost);
        output.WriteLine($"steps seen on the node that joined: {onJoiner.Count}");
    }

    private static Task Until(Func<bool> condition, string what) => TestSupport.Polling.UntilAsync(condition, what, Timeout);

    private sealed class StepsSeen(ConcurrentDictionary<string, bool> seen) : IWorkflowObserver
    {
        public void OnStep(StepReport report)
        {
            if (report.Kind is StepReportKind.Starting or StepReportKind.Replayed)
                seen[report.Key] = true;
        }
    }
}
