using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>Cancellation from outside: the token fires, waits wake, cleanup steps run, the workflow ends CANCELLED.</summary>
public sealed class CancellationSpec(ITestOutputHelper output) : EngineSpec(output)
{
    private readonly EffectRecorder _counter = new();
    private readonly VirtualClock _clock = new(DateTimeOffset.Parse("2026-11-29T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private WorkflowRegistry Registry() => new WorkflowRegistry()
        .Add<string, string>("sleeping", async (ctx, _) =>
        {
            try
            {
                await ctx.StepAsync("reserve", () => _counter.Record("reserve"));
                await ctx.SleepAsync(TimeSpan.FromDays(7));
                await ctx.StepAsync("ship", () => _counter.Record("ship"));
                return "shipped";
            }
            finally
            {
                if (ctx.CancellationToken.IsCancellationRequested)
                    await ctx.StepAsync("release", () => _counter.Record("release"));
            }
        })
        .Add<string, string>("busy", async (ctx, _) =>
            await ctx.StepAsync("long-call", async ct =>
            {
                _counter.Record("long-call");
                await Task.Delay(Timeout.Infinite, ct);
                return "never";
            }));

    [Fact]
    public async Task SleepingWorkflow_Cancelled_WakesRunsItsCleanupStepAndEndsCancelled()
    {
        var coordinator = StartEngine(Registry(), clock: _clock);
        coordinator.Tell(new StartWorkflow("order-1", "sleeping"), TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);

        coordinator.Tell(new CancelWorkflow("order-1", "customer changed their mind"), TestActor);

        await ExpectMsgAsync<CancellationRequested>(RunTimeout);
        await AwaitAssertAsync(async () =>
            Assert.Equal(WorkflowRunStatus.Cancelled, (await DurableWorkflows.GetStatusAsync(Sys, "order-1"))!.Status), RunTimeout);
        Assert.Equal((1, 0, 1), (_counter.Count("reserve"), _counter.Count("ship"), _counter.Count("release")));
        var status = (await DurableWorkflows.GetStatusAsync(Sys, "order-1"))!;
        Assert.Equal("cancelled: customer changed their mind", status.Error);

        // Cancelled is final: resume answers it, a second cancel is refused and changes nothing.
        coordinator.Tell(new ResumeWorkflow("order-1"), TestActor);
        Assert.Equal("customer changed their mind", (await ExpectMsgAsync<WorkflowCancelled>(RunTimeout)).Reason);
        coordinator.Tell(new CancelWorkflow("order-1"), TestActor);
        Assert.Contains("has already ended (CANCELLED)", (await ExpectMsgAsync<WorkflowRejected>(RunTimeout)).Reason);
        Assert.Equal(1, _counter.Count("release"));
    }

    [Fact]
    public async Task CancelSentAgainWithItsDeliveryId_AfterItEndedTheWorkflow_IsAnsweredAsTheFirstWas()
    {
        var coordinator = StartEngine(Registry(), clock: _clock);
        coordinator.Tell(new StartWorkflow("order-2", "sleeping"), TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);
        var cancel = new CancelWorkflow("order-2", "out of stock") { DeliveryId = "c-1" };
        coordinator.Tell(cancel, TestActor);
        await ExpectMsgAsync<CancellationRequested>(RunTimeout);
        await AwaitAssertAsync(async () =>
            Assert.Equal(WorkflowRunStatus.Cancelled, (await DurableWorkflows.GetStatusAsync(Sys, "order-2"))!.Status), RunTimeout);

        // The client's resend (its reply was lost with a node) is the same request: it took effect, so it is answered so.
        coordinator.Tell(cancel, TestActor);
        await ExpectMsgAsync<CancellationRequested>(RunTimeout);
        // Another request, or one without an id, finds the workflow ended.
        coordinator.Tell(cancel with { DeliveryId = "c-2" }, TestActor);
        Assert.Contains("has already ended (CANCELLED)", (await ExpectMsgAsync<WorkflowRejected>(RunTimeout)).Reason);
        coordinator.Tell(new CancelWorkflow("order-2"), TestActor);
        await ExpectMsgAsync<WorkflowRejected>(RunTimeout);
        Assert.Equal((1, 1), (_counter.Count("reserve"), _counter.Count("release")));
    }

    [Fact]
    public async Task RunningStep_Cancelled_ItsBodySeesTheTokenAndTheWaiterGetsCancelled()
    {
        var coordinator = StartEngine(Registry(), clock: _clock);
        coordinator.Tell(new StartWorkflow("busy-1", "busy"), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(_counter.Count("long-call") == 1), RunTimeout, interval: TestSupport.Polling.Interval);

        coordinator.Tell(new CancelWorkflow("busy-1"), TestActor);

        await ExpectMsgAsync<CancellationRequested>(RunTimeout);
        Assert.Null((await ExpectMsgAsync<WorkflowCancelled>(RunTimeout)).Reason);
        var step = Assert.Single((await DurableWorkflows.GetStatusAsync(Sys, "busy-1"))!.Steps);
        Assert.Equal((StepStatus.Failed, 1), (step.Status, step.Attempts));
    }

    [Fact]
    public async Task CancelUnknownOrCompletedWorkflow_IsRefused()
    {
        var coordinator = StartEngine(new WorkflowRegistry().Add<string, string>("quick", async (ctx, _) => await ctx.StepAsync("a", () => "a")));
        coordinator.Tell(new StartWorkflow("quick-1", "quick"), TestActor);
        await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);

        coordinator.Tell(new CancelWorkflow("nobody"), TestActor);
        await ExpectMsgAsync<WorkflowNotFound>(RunTimeout);
        coordinator.Tell(new CancelWorkflow("quick-1"), TestActor);

        Assert.Contains("has already ended (COMPLETED); nothing was changed", (await ExpectMsgAsync<WorkflowRejected>(RunTimeout)).Reason);
        Assert.Equal(WorkflowRunStatus.Completed, (await DurableWorkflows.GetStatusAsync(Sys, "quick-1"))!.Status);
    }

    [Fact]
    public async Task CancelledWhilePutAwayAfterATimerFired_TheReplayPassesTheTimerAndTheCleanupRuns()
    {
        var observer = new RecordingObserver();
        var coordinator = StartEngine(new WorkflowRegistry().Add<string, string>("nap-then-wait", async (ctx, _) =>
        {
            try
            {
                await ctx.SleepAsync(TimeSpan.FromSeconds(1));
                await ctx.StepAsync("after-nap", () => _counter.Record("after-nap"));
                await ctx.SleepAsync(TimeSpan.FromDays(1));
                return "went";
            }
            finally
            {
                if (ctx.CancellationToken.IsCancellationRequested)
                    await ctx.StepAsync("release", () => _counter.Record("release"));
            }
        }), observer, _clock);
        coordinator.Tell(new StartWorkflow("nap-1", "nap-then-wait"), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(_clock.PendingTimers == 1), RunTimeout, interval: TestSupport.Polling.Interval);
        _clock.Advance(TimeSpan.FromSeconds(1));
        // Put away while it sleeps for a day: the cancellation runs it again from the top.
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);

        coordinator.Tell(new CancelWorkflow("nap-1"), TestActor);

        await ExpectMsgAsync<CancellationRequested>(RunTimeout);
        await AwaitAssertAsync(async () =>
            Assert.Equal(WorkflowRunStatus.Cancelled, (await DurableWorkflows.GetStatusAsync(Sys, "nap-1"))!.Status), RunTimeout);
        Assert.Equal((1, 1), (_counter.Count("after-nap"), _counter.Count("release")));
        // The timer that had fired replayed as fired: the step after it replayed too.
        Assert.Contains(observer.Reports, r => r is { StepId: "after-nap", Kind: StepReportKind.Replayed });
        Assert.DoesNotContain("not deterministic", (await DurableWorkflows.GetStatusAsync(Sys, "nap-1"))!.Error);
    }

    [Fact]
    public async Task CancelledWhilePutAwayAfterAParallelBlock_CleanupStepsTakeTheirOwnKeysAndItEndsCancelled()
    {
        var coordinator = StartEngine(new WorkflowRegistry().Add<string, string>("block-then-nap", async (ctx, _) =>
        {
            try
            {
                await ctx.ParallelAsync(
                    branch => branch.StepAsync("left", () => _counter.Record("left")),
                    branch => branch.StepAsync("right", () => _counter.Record("right")));
                await ctx.SleepAsync(TimeSpan.FromDays(1));
                return "done";
            }
            finally
            {
                if (ctx.CancellationToken.IsCancellationRequested)
                    await ctx.StepAsync("release", () => _counter.Record("release"));
            }
        }), clock: _clock);
        coordinator.Tell(new StartWorkflow("block-1", "block-then-nap"), TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);

        coordinator.Tell(new CancelWorkflow("block-1"), TestActor);

        await ExpectMsgAsync<CancellationRequested>(RunTimeout);
        await AwaitAssertAsync(async () =>
        {
            var st = (await DurableWorkflows.GetStatusAsync(Sys, "block-1"))!;
            Assert.True(st.Status == WorkflowRunStatus.Cancelled, st.Error);
        }, RunTimeout);
        Assert.Equal((1, 1, 1), (_counter.Count("left"), _counter.Count("right"), _counter.Count("release")));
        var release = (await DurableWorkflows.GetStatusAsync(Sys, "block-1"))!.Steps.Single(s => s.StepId == "release");
        Assert.Equal(("block-1:4", StepStatus.Completed), (release.Key, release.Status));
    }
}
