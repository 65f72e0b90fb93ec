using Akka.Actor;
using Akka.TestKit.Xunit2;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Observability;

/// <summary>
/// The metrics an application gets with <c>AddMeter("Durable.Actors")</c>. Every test registers workflow types and
/// step ids of its own, so that it reads only its own points while other tests run.
/// </summary>
public sealed class MetricsSpec : TestKit, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempFolder _folder = new();
    private readonly TelemetryCollector _telemetry = new();
    private readonly string _unique = Guid.NewGuid().ToString("N");

    private string Name(string name) => $"{name}-{_unique}";

    [Fact]
    public async Task Steps_OfAWorkflowResumedInASecondHost_AreCountedOnceEachAndNotAgainOnReplay()
    {
        var (type, first, second) = (Name("metered"), Name("first"), Name("second"));
        var hang = true;
        var counter = new EffectRecorder();
#pragma warning disable DURABLE0008 // Step ids unique to this test instance, so that its metrics do not mix with another test's; the same on every run.
        WorkflowRegistry Registry() => new WorkflowRegistry().Add<int, int>(type, async (ctx, n) =>
        {
            var a = await ctx.StepAsync(first, () => { counter.Record("first"); return n; });
            if (Volatile.Read(ref hang))
#pragma warning disable DURABLE0002 // The first run hangs here until its host stops: a wait the engine must not know of.
                await Task.Delay(System.Threading.Timeout.Infinite, ctx.CancellationToken);
#pragma warning restore DURABLE0002
            return a + await ctx.StepAsync(second, () => { counter.Record("second"); return 10; });
        });
#pragma warning restore DURABLE0008

        var (host1, coordinator1) = TestSupport.Engine.Start(_folder.Database, Registry());
        coordinator1.Tell(new StartWorkflow("m-1", type, "1"), ActorRefs.NoSender);
        // Its completion durable (its body ran a moment before): the stop leaves the workflow between its steps.
        await AwaitConditionAsync(async () => await TestSupport.Engine.StepCompletedAsync(host1, "m-1", first), Timeout, interval: TestSupport.Polling.Interval);
        await host1.Terminate();
        Volatile.Write(ref hang, false);
        var (host2, coordinator2) = TestSupport.Engine.Start(_folder.Database, Registry());
        try
        {
            await coordinator2.Ask<WorkflowCompleted>(new ResumeWorkflow("m-1"), Timeout);
            // Another run over the completed workflow replays nothing and counts nothing.
            await coordinator2.Ask<WorkflowCompleted>(new StartWorkflow("m-1", type, "1"), Timeout);
        }
        finally
        {
            await host2.Terminate();
        }

        Assert.Equal(1, _telemetry.Sum("durable.step.attempts", ("durable.step.id", first)));
        Assert.Equal(1, _telemetry.Sum("durable.step.attempts", ("durable.step.id", first), ("durable.step.outcome", "executed")));
        Assert.Equal(1, _telemetry.Sum("durable.step.attempts", ("durable.step.id", second)));
        Assert.Equal(1, _telemetry.Sum("durable.step.duration", ("durable.step.id", first)));
        Assert.Equal(1, _telemetry.Sum("durable.step.duration", ("durable.step.id", second)));
        Assert.Equal(0, _telemetry.Sum("durable.step.retries", ("durable.step.id", first)));
        Assert.Equal(1, _telemetry.Sum("durable.workflows.started", ("durable.workflow.type", type)));
        Assert.Equal(1, _telemetry.Sum("durable.workflows.completed", ("durable.workflow.type", type)));
        Assert.Equal(0, _telemetry.Sum("durable.workflows.failed", ("durable.workflow.type", type)));
        Assert.Equal(1, _telemetry.Sum("durable.workflow.duration", ("durable.workflow.type", type), ("durable.workflow.outcome", "completed")));
        Assert.True(_telemetry.Sum("durable.journal.commit.duration") > 0);
        Assert.True(_telemetry.Sum("durable.journal.commit.batch_size") > 0);
    }

    [Fact]
    public async Task Retries_OfAStepAndAFailedWorkflow_AreCountedByStepIdAndType()
    {
        var (type, flaky) = (Name("failing"), Name("flaky"));
#pragma warning disable DURABLE0008 // Step ids unique to this test instance, so that its metrics do not mix with another test's; the same on every run.
        var registry = new WorkflowRegistry().Add<int, int>(type, async (ctx, n) =>
            await ctx.StepAsync<int>(flaky, () => throw new InvalidOperationException("down"),
                new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromMilliseconds(1) }));
#pragma warning restore DURABLE0008
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, registry);
        try
        {
            await coordinator.Ask<WorkflowFailed>(new StartWorkflow("m-2", type, "1"), Timeout);
        }
        finally
        {
            await system.Terminate();
        }

        Assert.Equal(3, _telemetry.Sum("durable.step.attempts", ("durable.step.id", flaky), ("durable.step.outcome", "failed")));
        Assert.Equal(2, _telemetry.Sum("durable.step.retries", ("durable.step.id", flaky)));
        Assert.Equal(1, _telemetry.Sum("durable.workflows.failed", ("durable.workflow.type", type)));
        Assert.Equal(1, _telemetry.Sum("durable.workflow.duration", ("durable.workflow.type", type), ("durable.workflow.outcome", "failed")));
    }

    [Fact]
    public async Task Gauges_OfWorkflowsAsleepWaitingAndRunning_FollowEachWorkflowUntilItEndsOrItsHostStops()
    {
        var (sleeperType, waiterType, runnerType) = (Name("sleeper"), Name("waiter"), Name("runner"));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new WorkflowRegistry()
            .Add<int, int>(sleeperType, async (ctx, n) =>
            {
                await ctx.SleepAsync(TimeSpan.FromDays(1));
                return n;
            })
            .Add<int, int>(waiterType, async (ctx, n) => (await ctx.WaitForSignalAsync<int>("go")).Payload + n)
            .Add<int, int>(runnerType, async (ctx, n) => await ctx.StepAsync("work", async _ => { await release.Task; return n; }));
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, registry);
        try
        {
            // A day's sleep puts the workflow away at once; it stays counted as sleeping.
            await coordinator.Ask<WorkflowWaiting>(new StartWorkflow("g-sleeper", sleeperType, "1"), Timeout);
            coordinator.Tell(new StartWorkflow("g-waiter", waiterType, "1"), ActorRefs.NoSender);
            coordinator.Tell(new StartWorkflow("g-runner", runnerType, "1"), ActorRefs.NoSender);

            await AwaitAssertAsync(() =>
            {
                Assert.Equal(1, _telemetry.Sum("durable.workflows.sleeping", ("durable.workflow.type", sleeperType)));
                Assert.Equal(0, _telemetry.Sum("durable.workflows.running", ("durable.workflow.type", sleeperType)));
                Assert.Equal(1, _telemetry.Sum("durable.workflows.waiting", ("durable.workflow.type", waiterType)));
                Assert.Equal(1, _telemetry.Sum("durable.workflows.running", ("durable.workflow.type", runnerType)));
            }, Timeout);

            await coordinator.Ask<SignalDelivered>(new SignalWorkflow("g-waiter", "go", "2"), Timeout);
            release.SetResult();
            await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("g-runner", runnerType, "1"), Timeout);
            await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("g-waiter", waiterType, "1"), Timeout);

            Assert.Equal(0, _telemetry.Sum("durable.workflows.waiting", ("durable.workflow.type", waiterType)));
            Assert.Equal(0, _telemetry.Sum("durable.workflows.running", ("durable.workflow.type", waiterType)));
            Assert.Equal(0, _telemetry.Sum("durable.workflows.running", ("durable.workflow.type", runnerType)));
            Assert.Equal(1, _telemetry.Sum("durable.workflows.sleeping", ("durable.workflow.type", sleeperType)));
        }
        finally
        {
            await system.Terminate();
        }

        // A host that stopped counts nothing: its put-away sleeper is no longer this process's.
        await AwaitAssertAsync(() => Assert.Equal(0, _telemetry.Sum("durable.workflows.sleeping", ("durable.workflow.type", sleeperType))), Timeout);
    }

    [Fact]
    public async Task Cancel_OfAWorkflowPutAwayAsleep_CountsItCancelledAndNoLongerSleeping()
    {
        var type = Name("cancelled");
        var registry = new WorkflowRegistry().Add<int, int>(type, async (ctx, n) =>
        {
            await ctx.SleepAsync(TimeSpan.FromDays(1));
            return n;
        });
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, registry);
        try
        {
            await coordinator.Ask<WorkflowWaiting>(new StartWorkflow("c-1", type, "1"), Timeout);
            Assert.Equal(1, _telemetry.Sum("durable.workflows.sleeping", ("durable.workflow.type", type)));

            await coordinator.Ask<CancellationRequested>(new CancelWorkflow("c-1", "no longer needed"), Timeout);
            await coordinator.Ask<WorkflowCancelled>(new ResumeWorkflow("c-1"), Timeout);
        }
        finally
        {
            await system.Terminate();
        }

        Assert.Equal(1, _telemetry.Sum("durable.workflows.cancelled", ("durable.workflow.type", type)));
        Assert.Equal(1, _telemetry.Sum("durable.workflow.duration", ("durable.workflow.type", type), ("durable.workflow.outcome", "cancelled")));
        Assert.Equal(0, _telemetry.Sum("durable.workflows.sleeping", ("durable.workflow.type", type)));
        Assert.Equal(0, _telemetry.Sum("durable.workflows.running", ("durable.workflow.type", type)));
    }

    public new void Dispose()
    {
        _telemetry.Dispose();
        _folder.Dispose();
        base.Dispose();
    }
}
