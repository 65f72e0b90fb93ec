using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// Heartbeats of a long step (<see cref="StepOptions.HeartbeatTimeout"/>, <see cref="StepExecution"/>), on the workflow
/// clock: an attempt whose heartbeats stop has its token cancelled and fails as timed out, the next attempt goes on from
/// the last details recorded, and heartbeats keep an attempt running past its heartbeat timeout.
/// </summary>
public sealed class HeartbeatSpec(ITestOutputHelper output) : EngineSpec(output)
{
    private static readonly RetryPolicy TwoAttemptsAtOnce = new() { MaxAttempts = 2, InitialDelay = TimeSpan.Zero, Jitter = 0 };

    private readonly EffectRecorder _effects = new();
    private readonly VirtualClock _clock = new(DateTimeOffset.Parse("2026-12-07T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private async Task<WorkflowStatus> StatusAsync(string workflowId) => (await DurableWorkflows.GetStatusAsync(Sys, workflowId))!;

    [Fact]
    public async Task AttemptWhoseHeartbeatsStop_IsCancelled_AndTheNextAttemptGoesOnFromItsLastDetails()
    {
        var registry = new WorkflowRegistry().Add<string, int>("copy", (ctx, _) =>
            ctx.StepAsync("copy-files", async ct =>
            {
                var step = StepExecution.Current;
                var from = step.GetHeartbeatDetails<int>();
                _effects.Record($"attempt {step.Attempt} from {from}");
                if (step.Attempt == 1)
                {
                    for (var file = from; file < 3; file++)
                        step.Heartbeat(file + 1);   // three files copied
                    await Task.Delay(Timeout.Infinite, ct);   // the fourth hangs
                }
                return from + 2;   // the last two
            }, new StepOptions { HeartbeatTimeout = TimeSpan.FromMinutes(1), Retry = TwoAttemptsAtOnce }));
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("copy-1", "copy"), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(_effects.Count("attempt 1 from 0") == 1), RunTimeout, interval: TestSupport.Polling.Interval);

        _clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(5, (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<int>());
        Assert.Equal(1, _effects.Count("attempt 2 from 3"));
        var step = Assert.Single((await StatusAsync("copy-1")).Steps);
        Assert.Equal(2, step.Attempts);
        Assert.Contains("Attempt 1 of step 'copy-files' (copy-1:1) sent no heartbeat for 60 s", Assert.Single(step.Failures).Error);
    }

    [Fact]
    public async Task HeartbeatsKeepAnAttemptRunning_LongPastItsHeartbeatTimeout()
    {
        var gate = new SemaphoreSlim(0);
        var registry = new WorkflowRegistry().Add<string, string>("report", (ctx, _) =>
            ctx.StepAsync("render", async ct =>
            {
                var step = StepExecution.Current;
                for (var page = 1; page <= 5; page++)
                {
                    await gate.WaitAsync(ct);
                    step.Heartbeat(page);
                    _effects.Record("page");
                }
                return $"attempt {step.Attempt}";
            }, new StepOptions { HeartbeatTimeout = TimeSpan.FromMinutes(1), Retry = TwoAttemptsAtOnce }));
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("report-1", "report"), TestActor);

        // Five pages, 40 s apart: 200 s in all, over three times the heartbeat timeout.
        for (var page = 1; page <= 5; page++)
        {
            await AwaitAssertAsync(async () => Assert.Equal(StepStatus.InProgress, Assert.Single((await StatusAsync("report-1")).Steps).Status), RunTimeout);
            _clock.Advance(TimeSpan.FromSeconds(40));
            gate.Release();
            var done = page;
            await AwaitConditionAsync(() => Task.FromResult(_effects.Count("page") == done), RunTimeout, interval: TestSupport.Polling.Interval);
            // What status (and history, the dashboard) shows of a running step: its last heartbeat, with its details.
            var at = _clock.GetUtcNow();
            await AwaitAssertAsync(async () =>
            {
                var step = Assert.Single((await StatusAsync("report-1")).Steps);
                Assert.Equal((at, done.ToString(System.Globalization.CultureInfo.InvariantCulture)), (step.LastHeartbeatAt, step.HeartbeatDetailsJson));
            }, RunTimeout);
        }

        Assert.Equal("attempt 1", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Empty(Assert.Single((await StatusAsync("report-1")).Steps).Failures);
    }

    [Fact]
    public async Task StepExecutionOutsideAHeartbeatingBody_Throws_AndAZeroHeartbeatTimeoutIsRefused()
    {
        Assert.Throws<InvalidOperationException>(() => StepExecution.Current);
        var registry = new WorkflowRegistry()
            .Add<string, string>("plain", (ctx, _) => ctx.StepAsync("look", () =>
            {
                try
                {
                    return StepExecution.Current.StepId;
                }
                catch (InvalidOperationException e)
                {
                    return e.Message;
                }
            }))
            .Add<string, string>("bad", (ctx, _) =>
                ctx.StepAsync("charge", _ => Task.FromResult("charged"), new StepOptions { HeartbeatTimeout = TimeSpan.Zero }));
        var coordinator = StartEngine(registry, clock: _clock);

        coordinator.Tell(new StartWorkflow("plain-1", "plain"), TestActor);
        Assert.Contains("set only inside the body of a step whose StepOptions set a HeartbeatTimeout", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        coordinator.Tell(new StartWorkflow("bad-1", "bad"), TestActor);
        Assert.Contains("options.HeartbeatTimeout", (await ExpectMsgAsync<WorkflowFailed>(RunTimeout)).Error);
        Assert.Empty((await StatusAsync("bad-1")).Steps);
    }
}
