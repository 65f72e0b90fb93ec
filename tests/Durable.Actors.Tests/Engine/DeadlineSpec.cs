using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// A workflow's deadline (<see cref="StartWorkflow.Timeout"/>): durable from its first start, it cancels the workflow
/// as timed out, running or put away, on this host or one started after it, and its children inherit it.
/// </summary>
public sealed class DeadlineSpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.passivate-after = 500ms")
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-12-06T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private readonly EffectRecorder _effects = new();
    private readonly VirtualClock _clock = new(T0);

    /// <summary>Books a room, waits a day for the guests, and releases the room however it ends.</summary>
    private WorkflowRegistry Booking() => new WorkflowRegistry().Add<string, string>("booking", async (ctx, _) =>
    {
        await ctx.StepAsync("book", () => { _effects.Record("book"); return "booked"; });
        try
        {
            await ctx.SleepAsync(TimeSpan.FromDays(1));
            return "guests came";
        }
        finally
        {
            await ctx.StepAsync("release", () => { _effects.Record("release"); return "released"; });
        }
    });

    private static async Task<WorkflowStatus> StatusAsync(ActorSystem system, string workflowId) => (await DurableWorkflows.GetStatusAsync(system, workflowId))!;

    [Fact]
    public async Task PutAwayWorkflow_ItsDeadlinePasses_ItIsWokenAndCancelledAsTimedOut_AndItsCleanupRuns()
    {
        var coordinator = StartEngine(Booking(), clock: _clock);
        coordinator.Tell(new StartWorkflow("room-1", "booking") { Timeout = TimeSpan.FromHours(1) }, TestActor);
        // Woken at the deadline, not at the end of its day of sleep.
        Assert.Equal(T0.AddHours(1), (await ExpectMsgAsync<WorkflowWaiting>(RunTimeout)).Until);
        Assert.Equal(T0.AddHours(1), (await StatusAsync(Sys, "room-1")).Deadline);

        _clock.Advance(TimeSpan.FromHours(1));

        await AwaitAssertAsync(async () =>
        {
            var status = await StatusAsync(Sys, "room-1");
            Assert.Equal(WorkflowRunStatus.Cancelled, status.Status);
            Assert.Equal("cancelled: timed out: its deadline 2026-12-06T13:00:00.0000000+00:00 passed", status.Error);
        }, RunTimeout);
        Assert.Equal((1, 1), (_effects.Count("book"), _effects.Count("release")));
    }

    [Fact]
    public async Task RunningStep_ItsDeadlinePasses_ItsTokenIsCancelledAndTheWorkflowEndsCancelled()
    {
        var registry = new WorkflowRegistry().Add<string, string>("export", (ctx, _) =>
            ctx.StepAsync("export", async ct =>
            {
                _effects.Record("export");
                await Task.Delay(Timeout.Infinite, ct);
                return "exported";
            }));
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("export-1", "export") { Timeout = TimeSpan.FromMinutes(10) }, TestActor);
        await AwaitConditionAsync(() => Task.FromResult(_effects.Count("export") == 1), RunTimeout, interval: TestSupport.Polling.Interval);

        _clock.Advance(TimeSpan.FromMinutes(10));

        var cancelled = await ExpectMsgAsync<WorkflowCancelled>(RunTimeout);
        Assert.StartsWith("timed out: its deadline", cancelled.Reason);
        Assert.Equal(1, _effects.Count("export"));
    }

    [Fact]
    public async Task DeadlinePassedWhileNoHostRan_TheNextHostCancelsTheWorkflowAtStart_BeforeItsTimerIsDue()
    {
        var database = Path.Combine(Folder.Path, "restart.db");
        var (first, firstCoordinator) = TestSupport.Engine.Start(database, Booking(), extraHocon: "durable-actors.passivate-after = 500ms", clock: _clock);
        try
        {
            var reply = await firstCoordinator.Ask<object>(new StartWorkflow("room-2", "booking") { Timeout = TimeSpan.FromHours(2) }, RunTimeout);
            Assert.IsType<WorkflowWaiting>(reply);
        }
        finally
        {
            await first.Terminate();
        }

        // Past the deadline, long before the day of sleep ends: the index wakes it for the deadline.
        _clock.Advance(TimeSpan.FromHours(3));
        var (second, _) = TestSupport.Engine.Start(database, Booking(), extraHocon: "durable-actors.passivate-after = 500ms", clock: _clock);
        try
        {
            await AwaitAssertAsync(async () =>
            {
                var status = await StatusAsync(second, "room-2");
                Assert.Equal(WorkflowRunStatus.Cancelled, status.Status);
                Assert.Contains("timed out", status.Error);
            }, RunTimeout);
            Assert.Equal(1, _effects.Count("release"));
        }
        finally
        {
            await second.Terminate();
        }
    }

    [Fact]
    public async Task Child_InheritsItsParentsDeadline_EvenWhenItIsNotCancelledWithItsParent()
    {
        var registry = Booking().Add<string, string>("trip", async (ctx, _) =>
            await ctx.RunChildAsync<string, string>("booking", "hotel", "room-3/hotel", cancelWithParent: false));
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("room-3", "trip") { Timeout = TimeSpan.FromHours(1) }, TestActor);
        await AwaitAssertAsync(async () => Assert.Equal(T0.AddHours(1), (await StatusAsync(Sys, "room-3/hotel")).Deadline), RunTimeout);

        _clock.Advance(TimeSpan.FromHours(1));

        await AwaitAssertAsync(async () =>
        {
            Assert.Equal(WorkflowRunStatus.Cancelled, (await StatusAsync(Sys, "room-3")).Status);
            var child = await StatusAsync(Sys, "room-3/hotel");
            Assert.Equal(WorkflowRunStatus.Cancelled, child.Status);
            Assert.Contains("timed out", child.Error);
        }, RunTimeout);
    }

    [Fact]
    public async Task TimeoutOfZero_IsRejectedAndNothingIsRecorded()
    {
        var coordinator = StartEngine(Booking(), clock: _clock);
        coordinator.Tell(new StartWorkflow("room-4", "booking") { Timeout = TimeSpan.Zero }, TestActor);

        Assert.Equal("the timeout must be more than zero, not 00:00:00", (await ExpectMsgAsync<WorkflowRejected>(RunTimeout)).Reason);
        Assert.Empty(JournalRows.Of(Folder.Database, "room-4"));
        Assert.Equal(0, _effects.Count("book"));
    }
}
