using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// Recovery wakes at most 64 workflows at once. A woken workflow frees its place as soon as its replay reaches what it
/// waits for now, so workflows that wait for days where they cannot be put away (inside a parallel branch) do not hold
/// back another workflow whose timer is due.
/// </summary>
public sealed class WakeQueueSpec(ITestOutputHelper output) : EngineSpec(output)
{
    private const int BranchSleepers = 64;
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-11-29T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
    private readonly EffectRecorder _counter = new();

    private WorkflowRegistry Registry() => new WorkflowRegistry()
        .Add<string, string>("branch-sleeper", async (ctx, _) =>
        {
            var slept = await ctx.ParallelAsync([async branch =>
            {
                await branch.SleepAsync(TimeSpan.FromDays(10));
                return "slept";
            }]);
            return slept[0];
        })
        .Add<string, string>("short", async (ctx, _) =>
        {
            await ctx.SleepAsync(TimeSpan.FromMinutes(1));
            return await ctx.StepAsync("after", () => { _counter.Record("after"); return "woke"; });
        });

    [Fact]
    public async Task SixtyFourRecoveredWorkflowsWaitingDaysInABranch_DoNotHoldBackAnotherWorkflowsDueTimer()
    {
        var firstClock = new VirtualClock(T0);
        var (first, firstCoordinator) = TestSupport.Engine.Start(Folder.Database, Registry(), clock: firstClock);
        Assert.IsType<WorkflowWaiting>(await firstCoordinator.Ask<object>(new StartWorkflow("short-1", "short"), RunTimeout));
        for (var i = 0; i < BranchSleepers; i++)
            firstCoordinator.Tell(new StartWorkflow($"branch-{i}", "branch-sleeper"), ActorRefs.NoSender);
        // The short workflow's wake-up and each branch's timer.
        await AwaitConditionAsync(() => Task.FromResult(firstClock.PendingTimers >= BranchSleepers + 1), RunTimeout, interval: TestSupport.Polling.Interval);
        await first.Terminate();

        // The next host starts 30 s later: every branch sleeper is woken at once (its wait is not the workflow's own, so it
        // has no due time in the index), the short workflow is due in 30 s.
        var clock = new VirtualClock(T0 + TimeSpan.FromSeconds(30));
        StartEngine(Registry(), clock: clock);
        await AwaitConditionAsync(() => Task.FromResult(clock.PendingTimers >= BranchSleepers), RunTimeout, interval: TestSupport.Polling.Interval);

        clock.Advance(TimeSpan.FromMinutes(1));

        await AwaitAssertAsync(async () =>
            Assert.Equal(WorkflowRunStatus.Completed, (await DurableWorkflows.GetStatusAsync(Sys, "short-1"))!.Status), RunTimeout);
        Assert.Equal(1, _counter.Count("after"));
    }
}
