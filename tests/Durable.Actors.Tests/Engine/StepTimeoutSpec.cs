using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// A step's timeout per attempt (<see cref="StepOptions.Timeout"/>, start-to-close, on the workflow clock): the body's
/// token is cancelled, the attempt is recorded as FAILED with <see cref="StepTimedOutException"/>, and the retry policy
/// retries it like any other error.
/// </summary>
public sealed class StepTimeoutSpec(ITestOutputHelper output) : EngineSpec(output)
{
    private static readonly RetryPolicy TwoAttemptsAtOnce = new() { MaxAttempts = 2, InitialDelay = TimeSpan.Zero, Jitter = 0 };

    private readonly EffectRecorder _effects = new();
    private readonly VirtualClock _clock = new(DateTimeOffset.Parse("2026-12-06T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private async Task<WorkflowStatus> StatusAsync(string workflowId) => (await DurableWorkflows.GetStatusAsync(Sys, workflowId))!;

    [Fact]
    public async Task AttemptOverItsTimeout_ItsTokenIsCancelled_AndTheNextAttemptRuns()
    {
        var registry = new WorkflowRegistry().Add<string, string>("charge", (ctx, _) =>
            ctx.StepAsync("charge", async ct =>
            {
                _effects.Record("charge");
                if (_effects.Count("charge") == 1)
                    await Task.Delay(Timeout.Infinite, ct);   // the payment API hangs the first time
                return "charged";
            }, new StepOptions { Timeout = TimeSpan.FromMinutes(1), Retry = TwoAttemptsAtOnce }));
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("pay-1", "charge"), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(_effects.Count("charge") == 1), RunTimeout, interval: TestSupport.Polling.Interval);

        _clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal("charged", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        var step = Assert.Single((await StatusAsync("pay-1")).Steps);
        Assert.Equal(2, step.Attempts);
        Assert.Contains("Attempt 1 of step 'charge' (pay-1:1) timed out after 60 s", Assert.Single(step.Failures).Error);
    }

    [Fact]
    public async Task EveryAttemptTimesOut_TheWorkflowGetsStepTimedOutException()
    {
        var registry = new WorkflowRegistry().Add<string, string>("charge", async (ctx, _) =>
        {
            try
            {
                return await ctx.StepAsync("charge", async ct =>
                {
                    _effects.Record("charge");
                    await Task.Delay(Timeout.Infinite, ct);
                    return "charged";
                }, new StepOptions { Timeout = TimeSpan.FromSeconds(30), Retry = RetryPolicy.None });
            }
            catch (StepTimedOutException e)
            {
                return $"gave up: attempt {e.Attempt} of {e.StepId} after {e.Timeout.TotalSeconds} s";
            }
        });
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("pay-2", "charge"), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(_effects.Count("charge") == 1), RunTimeout, interval: TestSupport.Polling.Interval);

        _clock.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal("gave up: attempt 1 of charge after 30 s", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Equal(StepStatus.Failed, Assert.Single((await StatusAsync("pay-2")).Steps, s => s.StepId == "charge").Status);
    }

    [Fact]
    public async Task BodyThatIgnoresItsToken_HoldsTheStepUntilItReturns_AndItsLateResultIsDiscarded()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new WorkflowRegistry().Add<string, string>("report", (ctx, _) =>
            ctx.StepAsync("render", async _ =>
            {
                _effects.Record("render");
                var attempt = _effects.Count("render");
                if (attempt == 1)
                    await release.Task;   // does not look at its token
                return $"attempt {attempt}";
            }, new StepOptions { Timeout = TimeSpan.FromMinutes(5), Retry = TwoAttemptsAtOnce }));
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("report-1", "report"), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(_effects.Count("render") == 1), RunTimeout, interval: TestSupport.Polling.Interval);

        _clock.Advance(TimeSpan.FromMinutes(5));
        // The first body still runs: no second attempt starts beside it.
        await AwaitAssertAsync(async () => Assert.Equal(StepStatus.InProgress, Assert.Single((await StatusAsync("report-1")).Steps).Status), RunTimeout);
        Assert.Equal(1, _effects.Count("render"));

        release.SetResult();

        Assert.Equal("attempt 2", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
    }

    [Fact]
    public async Task TimeoutOfZero_IsRefusedWhereTheStepIsAsked()
    {
        var registry = new WorkflowRegistry().Add<string, string>("bad", (ctx, _) =>
            ctx.StepAsync("charge", _ => Task.FromResult("charged"), new StepOptions { Timeout = TimeSpan.Zero }));
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("bad-1", "bad"), TestActor);

        Assert.Contains("options.Timeout", (await ExpectMsgAsync<WorkflowFailed>(RunTimeout)).Error);
        Assert.Empty((await StatusAsync("bad-1")).Steps);
    }
}
