using System.Globalization;
using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>Step retries with backoff, driven by a manual clock: time moves only when the test moves it.</summary>
public sealed class RetrySpec(ITestOutputHelper output) : EngineSpec(output)
{
    private readonly EffectRecorder _counter = new();
    private readonly VirtualClock _clock = new(DateTimeOffset.Parse("2026-11-25T12:00:00Z", CultureInfo.InvariantCulture));

    private static readonly RetryPolicy Policy = new()
    {
        MaxAttempts = 3,
        InitialDelay = TimeSpan.FromSeconds(10),
        BackoffCoefficient = 2,
        MaxDelay = TimeSpan.FromMinutes(1),
        Jitter = 0,
        NonRetryableExceptions = [typeof(ArgumentException)],
    };

    private WorkflowRegistry Registry(Func<int, Exception?> failure) => new WorkflowRegistry().Add<string, int>("retrying", async (ctx, _) =>
        await ctx.StepAsync("call-api", () =>
        {
            _counter.Record("call-api");
            if (failure(_counter.Count("call-api")) is { } error)
                throw error;
            return _counter.Count("call-api");
        }, Policy));

    [Fact]
    public async Task StepAsync_FailsTwice_RetriesAfterEachBackoffDelayAndRecordsEveryAttempt()
    {
        var observer = new RecordingObserver();
        var coordinator = StartEngine(Registry(n => n < 3 ? new TimeoutException($"timed out ({n})") : null), observer, _clock);

        coordinator.Tell(new StartWorkflow("retry-1", "retrying"), TestActor);

        await AwaitConditionAsync(() => Task.FromResult(_clock.PendingTimers == 1), RunTimeout, interval: TestSupport.Polling.Interval);
        Assert.Equal(1, _counter.Count("call-api"));
        _clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(1, _clock.PendingTimers);
        _clock.Advance(TimeSpan.FromSeconds(1));
        await AwaitConditionAsync(() => Task.FromResult(_counter.Count("call-api") == 2 && _clock.PendingTimers == 1), RunTimeout, interval: TestSupport.Polling.Interval);
        _clock.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal(2, _counter.Count("call-api"));
        _clock.Advance(TimeSpan.FromSeconds(1));

        var completed = await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        Assert.Equal(3, completed.GetResult<int>());
        var step = Assert.Single((await DurableWorkflows.GetStatusAsync(Sys, "retry-1"))!.Steps);
        Assert.Equal((StepStatus.Completed, 3), (step.Status, step.Attempts));
        Assert.Equal(
            [(1, "TimeoutException: timed out (1)"), (2, "TimeoutException: timed out (2)")],
            step.Failures.Select(f => (f.Attempt, f.Error)));
        Assert.Equal(TimeSpan.FromSeconds(30), step.StartedAt - step.Failures[0].At);
        Assert.Contains(observer.Reports, r => r.Kind == StepReportKind.Failed && r.Detail!.Contains("retrying in 10s (attempt 2 of 3"));
    }

    [Fact]
    public async Task StepAsync_ExhaustsItsAttempts_FailsTheWorkflowAndResumeRunsTheStepAgain()
    {
        var coordinator = StartEngine(Registry(n => n <= 3 ? new TimeoutException($"timed out ({n})") : null), clock: _clock);

        coordinator.Tell(new StartWorkflow("retry-2", "retrying"), TestActor);
        for (var delay = 10; delay <= 20; delay *= 2)
        {
            var expected = delay;
            await AwaitConditionAsync(() => Task.FromResult(_clock.PendingTimers == 1), RunTimeout, interval: TestSupport.Polling.Interval);
            _clock.Advance(TimeSpan.FromSeconds(expected));
        }
        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("step 'call-api' (retry-2:1) failed: TimeoutException: timed out (3)", failed.Error);
        Assert.Equal(3, _counter.Count("call-api"));

        coordinator.Tell(new ResumeWorkflow("retry-2"), TestActor);

        Assert.Equal(4, (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<int>());
        var step = Assert.Single((await DurableWorkflows.GetStatusAsync(Sys, "retry-2"))!.Steps);
        Assert.Equal((StepStatus.Completed, 4, 3), (step.Status, step.Attempts, step.Failures.Count));
    }

    [Fact]
    public async Task StepAsync_NonRetryableException_FailsAtOnce()
    {
        var coordinator = StartEngine(Registry(_ => new ArgumentOutOfRangeException("amount")), clock: _clock);

        coordinator.Tell(new StartWorkflow("retry-3", "retrying"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("ArgumentOutOfRangeException", failed.Error);
        Assert.Equal(1, _counter.Count("call-api"));
        Assert.Equal(0, _clock.PendingTimers);
    }

    [Fact]
    public async Task StepAsync_OperationCanceledThatIsNotTheStepsCancellation_IsRetriedLikeAnyError()
    {
        // What HttpClient throws when its own timeout elapses: the step's token was never cancelled.
        var coordinator = StartEngine(Registry(n => n < 2 ? new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing.") : null), null, _clock);

        coordinator.Tell(new StartWorkflow("retry-http", "retrying"), TestActor);

        await AwaitConditionAsync(() => Task.FromResult(_clock.PendingTimers == 1), RunTimeout, interval: TestSupport.Polling.Interval);
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(2, (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<int>());
        var step = Assert.Single((await DurableWorkflows.GetStatusAsync(Sys, "retry-http"))!.Steps);
        var failure = Assert.Single(step.Failures);
        Assert.StartsWith("TaskCanceledException: The request was canceled", failure.Error);
        Assert.False(failure.IsZombie);
    }
}
