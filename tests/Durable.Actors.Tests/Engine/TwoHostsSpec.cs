using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// Two hosts on one database start the same workflow: the second waits on the first's step, not on the stale timeout;
/// a step with a heartbeat timeout is stale to it only once its heartbeats stopped for that long.
/// </summary>
public sealed class TwoHostsSpec : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempFolder _folder = new();
    private readonly EffectRecorder _counter = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkflowRegistry Registry() => new WorkflowRegistry().Add<string, string>("slow", async (ctx, _) =>
    {
        await ctx.StepAsync("first", () => _counter.Record("first"));
        return await ctx.StepAsync("slow", async _ =>
        {
            _counter.Record("slow");
            await _release.Task;
            return "done";
        });
    });

    [Fact]
    public async Task SecondHostStartsTheSameId_FirstHostFinishes_SecondSeesItLongBeforeTheStaleTimeout()
    {
        // The stale timeout (60 s) is twice this test's wait: only seeing the first host's records can pass it.
        const string hocon = "durable-actors.stale-timeout = 60s\ndurable-actors.recover-on-start = off";
        var slowStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondWaits = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstObserver = new RecordingObserver { OnReport = r => { if (r is { Kind: StepReportKind.Starting, StepId: "slow" }) slowStarted.TrySetResult(); } };
        var secondObserver = new RecordingObserver { OnReport = r => { if (r.Kind == StepReportKind.Waiting) secondWaits.TrySetResult(); } };
        var (first, firstCoordinator) = TestSupport.Engine.Start(_folder.Database, Registry(), firstObserver, hocon);
        var (second, secondCoordinator) = TestSupport.Engine.Start(_folder.Database, Registry(), secondObserver, hocon);
        try
        {
            var firstReply = firstCoordinator.Ask<object>(new StartWorkflow("shared-1", "slow"), Timeout);
            await slowStarted.Task.WaitAsync(Timeout);
            var secondReply = secondCoordinator.Ask<object>(new StartWorkflow("shared-1", "slow"), Timeout);
            await secondWaits.Task.WaitAsync(Timeout);

            _release.SetResult();

            Assert.Equal("done", Assert.IsType<WorkflowCompleted>(await firstReply).GetResult<string>());
            Assert.Equal("done", Assert.IsType<WorkflowCompleted>(await secondReply).GetResult<string>());
            Assert.Equal((1, 1), (_counter.Count("first"), _counter.Count("slow")));
        }
        finally
        {
            await second.Terminate();
            await first.Terminate();
        }
    }

    [Fact]
    public async Task StepThatHeartbeats_IsNotStaleToTheSecondHostPastTheStaleTimeout_ButIsOnceItsHeartbeatsStop()
    {
        // A stale timeout of 1 s: without heartbeats, the second host would run the first's step again after 1 s.
        const string hocon = "durable-actors.stale-timeout = 1s\ndurable-actors.recover-on-start = off";
        var heartbeat = TimeSpan.FromSeconds(5);
        var beats = 0;
        var hang = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hung = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        WorkflowRegistry Copying() => new WorkflowRegistry().Add<string, string>("copy", (ctx, _) =>
            ctx.StepAsync("copy-files", async _ =>
            {
                var step = StepExecution.Current;
                var from = step.GetHeartbeatDetails<int>();
                _counter.Record($"attempt {step.Attempt}");
                if (step.Attempt == 1)
                {
                    // Copies a file every 100 ms, until a call hangs: the process lives on, the heartbeats stop.
                    for (var file = 1; !hang.Task.IsCompleted; file++)
                    {
                        await Task.Delay(100, CancellationToken.None);
                        step.Heartbeat(file);
                        Interlocked.Exchange(ref beats, file);
                    }
                    await hung.Task;   // ignores its token, as a stuck call may
                }
                return $"went on from file {from} in attempt {step.Attempt}";
            }, new StepOptions { HeartbeatTimeout = heartbeat, Retry = RetryPolicy.None }));
        var secondWaits = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondObserver = new RecordingObserver { OnReport = r => { if (r.Kind == StepReportKind.Waiting) secondWaits.TrySetResult(); } };
        var (first, firstCoordinator) = TestSupport.Engine.Start(_folder.Database, Copying(), extraHocon: hocon);
        var (second, secondCoordinator) = TestSupport.Engine.Start(_folder.Database, Copying(), secondObserver, hocon);
        try
        {
            var firstReply = firstCoordinator.Ask<object>(new StartWorkflow("copy-1", "copy"), Timeout);
            await Polling.UntilAsync(() => Volatile.Read(ref beats) >= 1, "the first host's first heartbeat", Timeout);
            var secondReply = secondCoordinator.Ask<object>(new StartWorkflow("copy-1", "copy"), Timeout);
            await secondWaits.Task.WaitAsync(Timeout);

            // Three times the stale timeout of heartbeats: the second host waits on, it does not run the step.
            await Polling.UntilAsync(() => Volatile.Read(ref beats) >= 30, "30 heartbeats", Timeout);
            Assert.Equal((1, 0), (_counter.Count("attempt 1"), _counter.Count("attempt 2")));

            hang.SetResult();

            // Once silent for the heartbeat timeout, the step is stale: the second host runs it, from the last details recorded.
            var result = Assert.IsType<WorkflowCompleted>(await secondReply).GetResult<string>()!;
            Assert.Matches(@"^went on from file \d+ in attempt 2$", result);
            var from = int.Parse(result.Split(' ')[4], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(from, 30, Volatile.Read(ref beats));
            var step = Assert.Single((await DurableWorkflows.GetStatusAsync(second, "copy-1"))!.Steps);
            Assert.Contains("no heartbeat for", Assert.Single(step.Failures).Error);

            // The first host's stuck call returns at last: its late outcome is not recorded, and it answers the second's result.
            hung.SetResult();
            Assert.Equal(result, Assert.IsType<WorkflowCompleted>(await firstReply).GetResult<string>());
            Assert.Equal(1, _counter.Count("attempt 2"));
        }
        finally
        {
            await second.Terminate();
            await first.Terminate();
        }
    }

    public void Dispose() => _folder.Dispose();
}
