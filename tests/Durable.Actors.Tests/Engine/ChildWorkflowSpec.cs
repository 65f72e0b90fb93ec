using System.Globalization;
using Akka.Actor;
using Durable.Actors.Runtime;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>Child workflows: started once (a step), awaited durably (a signal the child sends when it ends).</summary>
public sealed class ChildWorkflowSpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.passivate-after = 500ms")
{
    private readonly EffectRecorder _counter = new();
    private readonly VirtualClock _clock = new(DateTimeOffset.Parse("2026-11-29T12:00:00Z", CultureInfo.InvariantCulture));
    private bool _failParentAfterChild = true;

    private WorkflowRegistry Registry() => new WorkflowRegistry()
        .Add<int, int>("square", async (ctx, n) => await ctx.StepAsync("square", () => { _counter.Record("square"); return n * n; }))
        .Add<int, int>("approved-square", async (ctx, n) =>
        {
            var approval = await ctx.WaitForSignalAsync<bool>("approve");
            return approval.Payload ? await ctx.StepAsync("square", () => { _counter.Record("square"); return n * n; }) : -1;
        })
        .Add<int, int>("failing", async (ctx, _) => await ctx.StepAsync<int>("boom", () => throw new InvalidOperationException("card declined"), RetryPolicy.None))
        .Add<string, int>("parent", async (ctx, childType) =>
        {
            var a = await ctx.RunChildAsync<int, int>(childType, 3);
            await ctx.StepAsync("after", () => _counter.Record("after"));
            return a + 1;
        })
        .Add<string, int>("fan-out", async (ctx, _) =>
        {
            var first = await ctx.StartChildAsync<int, int>("square", 2);
            var second = await ctx.StartChildAsync<int, int>("square", 5);
            await ctx.StepAsync("meanwhile", () => _counter.Record("meanwhile"));
            return await first.GetResultAsync() + await second.GetResultAsync();
        })
        .Add<string, int>("start-then-sleep", async (ctx, _) =>
        {
            var child = await ctx.StartChildAsync<int, int>("approved-square", 3);
            await ctx.SleepAsync(TimeSpan.FromDays(7));
            return await child.GetResultAsync();
        })
        .Add<string, int>("start-two-then-fail", async (ctx, _) =>
        {
            await ctx.StartChildAsync<int, int>("approved-square", 3);
            await ctx.StartChildAsync<int, int>("approved-square", 4, cancelWithParent: false);
            return await ctx.StepAsync<int>("boom", () => throw new InvalidOperationException("parent fails while its children wait"), RetryPolicy.None);
        })
        .Add<string, int>("parent-failing-once", async (ctx, _) =>
        {
            var a = await ctx.RunChildAsync<int, int>("square", 4);
            if (_failParentAfterChild)
            {
                _failParentAfterChild = false;
                throw new InvalidOperationException("parent fails after its child completed");
            }
            return a;
        });

    private async Task<WorkflowStatus?> StatusAsync(string id) => await DurableWorkflows.GetStatusAsync(Sys, id);

    [Fact]
    public async Task RunChild_ReturnsTheChildsResult_ChildIdDerivedFromTheParent()
    {
        var coordinator = StartEngine(Registry(), clock: _clock);

        coordinator.Tell(new StartWorkflow("p-1", "parent", "\"square\""), TestActor);

        Assert.Equal(10, (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<int>());
        var child = (await StatusAsync("p-1/1"))!;
        Assert.Equal((WorkflowRunStatus.Completed, "9"), (child.Status, child.ResultJson));
        Assert.Equal((1, 1), (_counter.Count("square"), _counter.Count("after")));
    }

    [Fact]
    public async Task ChildWaitsLong_ParentIsPutAway_ChildEndingWakesTheParent()
    {
        var coordinator = StartEngine(Registry(), clock: _clock);
        coordinator.Tell(new StartWorkflow("p-2", "parent", "\"approved-square\""), TestActor);
        var waiting = await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);
        Assert.Equal("waiting for child workflow 'p-2/1'", waiting.WaitingFor);

        coordinator.Tell(new SignalWorkflow("p-2/1", "approve", "true"), TestActor);
        await ExpectMsgAsync<SignalDelivered>(RunTimeout);

        await AwaitAssertAsync(async () => Assert.Equal(WorkflowRunStatus.Completed, (await StatusAsync("p-2"))!.Status), RunTimeout);
        Assert.Equal("10", (await StatusAsync("p-2"))!.ResultJson);
    }

    [Fact]
    public async Task ChildFails_ParentFailsNamingTheChild()
    {
        var coordinator = StartEngine(Registry(), clock: _clock);

        coordinator.Tell(new StartWorkflow("p-3", "parent", "\"failing\""), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("Child workflow 'p-3/1' (failing) failed", failed.Error);
        Assert.Contains("card declined", failed.Error);
        Assert.Equal(0, _counter.Count("after"));
    }

    [Fact]
    public async Task ParentResumedAfterItsChildCompleted_ReattachesAndNeverStartsASecondChild()
    {
        var coordinator = StartEngine(Registry(), clock: _clock);
        coordinator.Tell(new StartWorkflow("p-4", "parent-failing-once"), TestActor);
        await ExpectMsgAsync<WorkflowFailed>(RunTimeout);

        coordinator.Tell(new ResumeWorkflow("p-4"), TestActor);

        Assert.Equal(16, (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<int>());
        Assert.Equal(1, _counter.Count("square"));
    }

    [Fact]
    public async Task ParentCancelled_ItsWaitingChildIsCancelledToo()
    {
        var coordinator = StartEngine(Registry(), clock: _clock);
        coordinator.Tell(new StartWorkflow("p-5", "parent", "\"approved-square\""), TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);

        coordinator.Tell(new CancelWorkflow("p-5", "not needed"), TestActor);
        await ExpectMsgAsync<CancellationRequested>(RunTimeout);

        await AwaitAssertAsync(async () =>
        {
            Assert.Equal(WorkflowRunStatus.Cancelled, (await StatusAsync("p-5"))!.Status);
            Assert.Equal(WorkflowRunStatus.Cancelled, (await StatusAsync("p-5/1"))!.Status);
        }, RunTimeout);
        Assert.Equal(0, _counter.Count("square"));
    }

    [Fact]
    public async Task ChildOfAnUnknownType_ParentFailsNamingTheChildAndWhy()
    {
        var coordinator = StartEngine(Registry(), clock: _clock);

        coordinator.Tell(new StartWorkflow("p-6", "parent", "\"no-such-type\""), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("Child workflow 'p-6/1' (no-such-type) was not started: unknown workflow type 'no-such-type'", failed.Error);
        Assert.Null(await StatusAsync("p-6/1"));
    }

    [Fact]
    public async Task HostStopsWhileTheChildRuns_NextHostReattachesTheParentAndStartsNoSecondChild()
    {
        const string hocon = "durable-actors.passivate-after = 500ms";
        var (first, coordinator) = TestSupport.Engine.Start(Folder.Database, Registry(), clock: _clock, extraHocon: hocon + "\ndurable-actors.recover-on-start = off");
        coordinator.Tell(new StartWorkflow("p-7", "parent", "\"approved-square\""), TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);
        await first.Terminate();

        // The next host recovers both; the child gets its signal and ends; the parent hears it and completes.
        var (second, next) = TestSupport.Engine.Start(Folder.Database, Registry(), clock: _clock, extraHocon: hocon);
        try
        {
            next.Tell(new SignalWorkflow("p-7/1", "approve", "true"), TestActor);
            await ExpectMsgAsync<SignalDelivered>(RunTimeout);
            await AwaitAssertAsync(async () =>
                Assert.Equal("10", (await DurableWorkflows.GetStatusAsync(second, "p-7"))!.ResultJson), RunTimeout);
            Assert.Equal(1, _counter.Count("square"));
            var parent = (await DurableWorkflows.GetStatusAsync(second, "p-7"))!;
            Assert.Equal(1, parent.Steps.Single(s => s.StepId == "start-child:p-7/1").Attempts);
        }
        finally
        {
            await second.Terminate();
        }
    }

    [Fact]
    public async Task StartChild_ThenOtherWork_ThenTheResults()
    {
        var coordinator = StartEngine(Registry(), clock: _clock);

        coordinator.Tell(new StartWorkflow("p-8", "fan-out"), TestActor);

        Assert.Equal(29, (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<int>());
        Assert.Equal((2, 1), (_counter.Count("square"), _counter.Count("meanwhile")));
        Assert.Equal(WorkflowRunStatus.Completed, (await StatusAsync("p-8/2"))!.Status);
    }

    [Fact]
    public async Task ParentCancelledWhileItsChildsStartIsUnderWay_TheChildStartedAfterwardsIsCancelled()
    {
        // The child's actor holds the start it was sent until the parent has ended cancelled.
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        var holding = 1;
        var hooks = new RuntimeHooks
        {
            BeforeCommand = message =>
            {
                if (message is WorkflowRequest { Command: BeginWorkflow { WorkflowId: "p-9/1" } } && Interlocked.Exchange(ref holding, 0) == 1)
                {
                    held.TrySetResult();
                    release.Wait(RunTimeout);
                }
            },
        };
        var coordinator = DurableWorkflows.Start(Sys, Registry(), null, _clock, hooks);
        coordinator.Tell(new StartWorkflow("p-9", "parent", "\"approved-square\""), TestActor);
        await held.Task.WaitAsync(RunTimeout);

        coordinator.Tell(new CancelWorkflow("p-9", "not needed"), TestActor);
        await ExpectMsgAsync<CancellationRequested>(RunTimeout);
        Assert.Equal("not needed", (await ExpectMsgAsync<WorkflowCancelled>(RunTimeout)).Reason);
        release.Set();

        await AwaitAssertAsync(async () => Assert.Equal(WorkflowRunStatus.Cancelled, (await StatusAsync("p-9/1"))?.Status), RunTimeout);
        Assert.Equal("cancelled: its parent 'p-9' was cancelled", (await StatusAsync("p-9/1"))!.Error);
        Assert.Equal(0, _counter.Count("square"));
    }

    [Fact]
    public async Task ParentCancelledWhileItWaitsForSomethingElse_ItsStartedChildIsCancelledToo()
    {
        var coordinator = StartEngine(Registry(), clock: _clock);
        coordinator.Tell(new StartWorkflow("p-10", "start-then-sleep"), TestActor);
        Assert.StartsWith("sleeping until", (await ExpectMsgAsync<WorkflowWaiting>(RunTimeout)).WaitingFor);

        coordinator.Tell(new CancelWorkflow("p-10", "not needed"), TestActor);
        await ExpectMsgAsync<CancellationRequested>(RunTimeout);

        await AwaitAssertAsync(async () =>
        {
            Assert.Equal(WorkflowRunStatus.Cancelled, (await StatusAsync("p-10"))!.Status);
            Assert.Equal(WorkflowRunStatus.Cancelled, (await StatusAsync("p-10/1"))!.Status);
        }, RunTimeout);
        Assert.Equal(0, _counter.Count("square"));
    }

    [Fact]
    public async Task FailedParentCancelled_ItsChildIsCancelledToo_ButNotOneStartedToGoOnAlone()
    {
        var coordinator = StartEngine(Registry(), clock: _clock);
        coordinator.Tell(new StartWorkflow("p-11", "start-two-then-fail"), TestActor);
        Assert.Contains("parent fails while its children wait", (await ExpectMsgAsync<WorkflowFailed>(RunTimeout)).Error, StringComparison.Ordinal);
        Assert.Equal(WorkflowRunStatus.Running, (await StatusAsync("p-11/1"))!.Status);

        coordinator.Tell(new CancelWorkflow("p-11", "not needed"), TestActor);
        await ExpectMsgAsync<CancellationRequested>(RunTimeout);

        await AwaitAssertAsync(async () =>
        {
            Assert.Equal(WorkflowRunStatus.Cancelled, (await StatusAsync("p-11"))!.Status);
            var child = (await StatusAsync("p-11/1"))!;
            Assert.Equal((WorkflowRunStatus.Cancelled, "cancelled: its parent 'p-11' was cancelled"), (child.Status, child.Error));
        }, RunTimeout);
        // The child started with cancelWithParent: false goes on alone, and ends when approved.
        Assert.Equal(WorkflowRunStatus.Running, (await StatusAsync("p-11/2"))!.Status);
        coordinator.Tell(new SignalWorkflow("p-11/2", "approve", "true"), TestActor);
        await ExpectMsgAsync<SignalDelivered>(RunTimeout);
        await AwaitAssertAsync(async () => Assert.Equal(WorkflowRunStatus.Completed, (await StatusAsync("p-11/2"))!.Status), RunTimeout);
    }
}
