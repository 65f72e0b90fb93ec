using Akka.Actor;
using Durable.Actors.Inspection;
using Durable.Actors.Journal;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// Pause (<see cref="PauseWorkflow"/>): a paused workflow begins no new operation (a step running ends and is recorded,
/// a due timer fires and a signal is taken only once unpaused); the pause is durable, shows as PAUSED, and a
/// cancellation or the deadline ends it.
/// </summary>
public sealed class PauseSpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.passivate-after = 500ms")
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-12-06T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private readonly EffectRecorder _effects = new();
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static async Task<WorkflowStatus> StatusAsync(ActorSystem system, string workflowId) => (await DurableWorkflows.GetStatusAsync(system, workflowId))!;

    /// <summary>Two steps; the first waits for the test's gate.</summary>
    private WorkflowRegistry Export() => new WorkflowRegistry().Add<string, string>("export", async (ctx, _) =>
    {
        await ctx.StepAsync("extract", async ct => { _effects.Record("extract"); await _gate.Task; return "rows"; });
        await ctx.StepAsync("upload", () => { _effects.Record("upload"); return "uploaded"; });
        return "done";
    });

    [Fact]
    public async Task PausedWhileAStepRuns_TheStepEndsAndIsRecorded_TheNextStartsOnlyOnceUnpaused()
    {
        var coordinator = StartEngine(Export());
        coordinator.Tell(new StartWorkflow("export-1", "export"), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(_effects.Count("extract") == 1), RunTimeout, interval: TestSupport.Polling.Interval);

        Assert.IsType<WorkflowPaused>(await coordinator.Ask<object>(new PauseWorkflow("export-1", "database maintenance"), RunTimeout));
        _gate.SetResult();

        // Its run stops before the next step and is put away: the caller hears that it waits.
        var waiting = await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);
        Assert.Equal("paused: database maintenance (unpause it to go on)", waiting.WaitingFor);
        var paused = await StatusAsync(Sys, "export-1");
        Assert.Equal(WorkflowRunStatus.Paused, paused.Status);
        Assert.Equal(StepStatus.Completed, Assert.Single(paused.Steps).Status);
        Assert.Equal(0, _effects.Count("upload"));
        var listed = await DurableWorkflows.ListAsync(Sys, new WorkflowQuery { Status = WorkflowRunStatus.Paused });
        Assert.Equal("export-1", Assert.Single(listed.Items).WorkflowId);
        // Resuming a paused workflow does not run it.
        Assert.Equal(waiting.WaitingFor, (await coordinator.Ask<WorkflowWaiting>(new ResumeWorkflow("export-1"), RunTimeout)).WaitingFor);

        Assert.IsType<WorkflowUnpaused>(await coordinator.Ask<object>(new UnpauseWorkflow("export-1"), RunTimeout));

        await AwaitAssertAsync(async () => Assert.Equal(WorkflowRunStatus.Completed, (await StatusAsync(Sys, "export-1")).Status), RunTimeout);
        Assert.Equal((1, 1), (_effects.Count("extract"), _effects.Count("upload")));
        Assert.Empty((await DurableWorkflows.ListAsync(Sys, new WorkflowQuery { Status = WorkflowRunStatus.Paused })).Items);
    }

    [Fact]
    public async Task PausedWhileParallelBranchesRun_EachBranchStopsAfterItsRunningStep_AndGoesOnOnceUnpaused()
    {
        var registry = new WorkflowRegistry().Add<string, string>("fan-out", async (ctx, _) =>
        {
            var (a, b) = await ctx.ParallelAsync(
                async branch =>
                {
                    await branch.StepAsync("a1", async ct => { _effects.Record("a1"); await _gate.Task; return 1; });
                    return await branch.StepAsync("a2", () => { _effects.Record("a2"); return 2; });
                },
                async branch =>
                {
                    await branch.StepAsync("b1", async ct => { _effects.Record("b1"); await _gate.Task; return 3; });
                    return await branch.StepAsync("b2", () => { _effects.Record("b2"); return 4; });
                });
            return $"{a},{b}";
        });
        var coordinator = StartEngine(registry);
        coordinator.Tell(new StartWorkflow("fan-1", "fan-out"), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(_effects.Count("a1") == 1 && _effects.Count("b1") == 1), RunTimeout, interval: TestSupport.Polling.Interval);

        Assert.IsType<WorkflowPaused>(await coordinator.Ask<object>(new PauseWorkflow("fan-1"), RunTimeout));
        _gate.SetResult();

        await AwaitAssertAsync(async () =>
        {
            var status = await StatusAsync(Sys, "fan-1");
            Assert.Equal(WorkflowRunStatus.Paused, status.Status);
            Assert.Equal(["a1", "b1"], status.Steps.Where(s => s.Status == StepStatus.Completed).Select(s => s.StepId).Order());
        }, RunTimeout);
        Assert.Equal((0, 0), (_effects.Count("a2"), _effects.Count("b2")));
        // Its run stays in memory, held: a resume is told at once that it is paused.
        Assert.Equal("paused (unpause it to go on)", (await coordinator.Ask<WorkflowWaiting>(new ResumeWorkflow("fan-1"), RunTimeout)).WaitingFor);

        Assert.IsType<WorkflowUnpaused>(await coordinator.Ask<object>(new UnpauseWorkflow("fan-1"), RunTimeout));

        Assert.Equal("\"2,4\"", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).ResultJson);
        Assert.Equal((1, 1), (_effects.Count("a1"), _effects.Count("a2")));
        Assert.Equal((1, 1), (_effects.Count("b1"), _effects.Count("b2")));
    }

    [Fact]
    public async Task TimerDueWhilePaused_DoesNotFire_AndFiresOnUnpause()
    {
        var clock = new VirtualClock(T0);
        var registry = new WorkflowRegistry().Add<string, string>("nap", async (ctx, _) =>
        {
            await ctx.SleepAsync(TimeSpan.FromHours(1));
            return await ctx.StepAsync("wake", () => { _effects.Record("wake"); return "awake"; });
        });
        var coordinator = StartEngine(registry, clock: clock);
        coordinator.Tell(new StartWorkflow("nap-1", "nap"), TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);
        Assert.IsType<WorkflowPaused>(await coordinator.Ask<object>(new PauseWorkflow("nap-1"), RunTimeout));

        // The host wakes it when its timer is due (the wake-up was due before the pause): it stays paused. The
        // wake-up is on its way to the workflow before the resume below, and the status request follows both.
        clock.Advance(TimeSpan.FromHours(2));
        Assert.IsType<WorkflowWaiting>(await coordinator.Ask<object>(new ResumeWorkflow("nap-1"), RunTimeout));
        var paused = (await DurableWorkflows.GetDetailAsync(Sys, "nap-1"))!;
        Assert.Equal(WorkflowRunStatus.Paused, paused.Status.Status);
        Assert.Equal((WaitKind.Timer, WaitStatus.Waiting, (DateTimeOffset?)null), (Assert.Single(paused.Waits).Kind, paused.Waits[0].Status, paused.Waits[0].EndedAt));

        clock.Advance(TimeSpan.FromHours(1));
        Assert.IsType<WorkflowUnpaused>(await coordinator.Ask<object>(new UnpauseWorkflow("nap-1"), RunTimeout));

        await AwaitAssertAsync(async () => Assert.Equal(WorkflowRunStatus.Completed, (await StatusAsync(Sys, "nap-1")).Status), RunTimeout);
        // It fired when it was unpaused, three hours in.
        var fired = Assert.Single((await DurableWorkflows.GetDetailAsync(Sys, "nap-1"))!.Waits);
        Assert.Equal((WaitStatus.Fired, (DateTimeOffset?)T0.AddHours(3)), (fired.Status, fired.EndedAt));
        Assert.Equal(1, _effects.Count("wake"));
    }

    [Fact]
    public async Task StepAndRecordedValueWrittenWhilePaused_TheIndexSaysPaused_AsTheFoldOfTheJournalDoes()
    {
        // A step's start implies "running" (it is not written with each step): the completions and recorded values a
        // paused workflow writes leave it paused, in the index as in a rebuild from its events.
        var registry = new WorkflowRegistry().Add<string, string>("stamp", async (ctx, _) =>
        {
            await ctx.StepAsync("extract", async ct => { _effects.Record("extract"); await _gate.Task; return "rows"; });
            var at = await ctx.NowAsync();
            return await ctx.StepAsync("upload", () => $"uploaded at {at:O}");
        });
        var coordinator = StartEngine(registry);
        coordinator.Tell(new StartWorkflow("stamp-1", "stamp"), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(_effects.Count("extract") == 1), RunTimeout, interval: TestSupport.Polling.Interval);
        Assert.IsType<WorkflowPaused>(await coordinator.Ask<object>(new PauseWorkflow("stamp-1"), RunTimeout));
        _gate.SetResult();
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);

        var paused = Assert.Single(WorkflowIndexSpec.IndexRows(Folder.Database));
        Assert.Equal(("paused", 2, 2, (DateTimeOffset?)WorkflowIndex.NoDueTime), (paused.Status, paused.StepCount, paused.CompletedSteps, paused.WakeAt));
        Assert.Equal(WorkflowIndexSpec.FoldedRows(Folder.Database), WorkflowIndexSpec.IndexRows(Folder.Database));

        Assert.IsType<WorkflowUnpaused>(await coordinator.Ask<object>(new UnpauseWorkflow("stamp-1"), RunTimeout));
        await AwaitAssertAsync(() => Assert.Equal("completed", Assert.Single(WorkflowIndexSpec.IndexRows(Folder.Database)).Status), RunTimeout);
        Assert.Equal(WorkflowIndexSpec.FoldedRows(Folder.Database), WorkflowIndexSpec.IndexRows(Folder.Database));
    }

    /// <summary>Waits for an approval, then pays.</summary>
    private WorkflowRegistry Approval() => new WorkflowRegistry().Add<string, string>("approval", async (ctx, _) =>
    {
        await ctx.StepAsync("submit", () => { _effects.Record("submit"); return "submitted"; });
        var by = (await ctx.WaitForSignalAsync<string>("approve")).Payload;
        return await ctx.StepAsync("pay", () => { _effects.Record("pay"); return $"paid, approved by {by}"; });
    });

    [Fact]
    public async Task PauseAndASignalSentWhileItIsPaused_OutliveTheHost_AndTheNextHostRunsItOnlyOnceUnpaused()
    {
        var database = Path.Combine(Folder.Path, "restart.db");
        var (first, firstCoordinator) = TestSupport.Engine.Start(database, Approval(), extraHocon: "durable-actors.passivate-after = 500ms");
        try
        {
            Assert.IsType<WorkflowWaiting>(await firstCoordinator.Ask<object>(new StartWorkflow("claim-1", "approval"), RunTimeout));
            Assert.IsType<WorkflowPaused>(await firstCoordinator.Ask<object>(new PauseWorkflow("claim-1", "audit"), RunTimeout));
            Assert.IsType<SignalDelivered>(await firstCoordinator.Ask<object>(new SignalWorkflow("claim-1", "approve", "\"grace\""), RunTimeout));
            // The signal is kept: the paused workflow does not take it.
            Assert.IsType<WorkflowWaiting>(await firstCoordinator.Ask<object>(new ResumeWorkflow("claim-1"), RunTimeout));
            Assert.Equal(0, _effects.Count("pay"));
        }
        finally
        {
            await first.Terminate();
        }

        // The next host recovers unfinished workflows at start: a paused one stays paused.
        var (second, secondCoordinator) = TestSupport.Engine.Start(database, Approval(), extraHocon: "durable-actors.passivate-after = 500ms");
        try
        {
            var waiting = await secondCoordinator.Ask<WorkflowWaiting>(new ResumeWorkflow("claim-1"), RunTimeout);
            Assert.Equal("paused: audit (unpause it to go on)", waiting.WaitingFor);
            var status = await StatusAsync(second, "claim-1");
            Assert.Equal(WorkflowRunStatus.Paused, status.Status);
            Assert.Equal(waiting.WaitingFor, status.WaitingFor);

            Assert.IsType<WorkflowUnpaused>(await secondCoordinator.Ask<object>(new UnpauseWorkflow("claim-1"), RunTimeout));

            await AwaitAssertAsync(async () =>
                Assert.Equal("\"paid, approved by grace\"", (await StatusAsync(second, "claim-1")).ResultJson), RunTimeout);
            Assert.Equal((1, 1), (_effects.Count("submit"), _effects.Count("pay")));
        }
        finally
        {
            await second.Terminate();
        }
    }

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

    [Fact]
    public async Task CancelledWhilePaused_ThePauseEnds_ItsCleanupRuns_AndItEndsCancelled()
    {
        var coordinator = StartEngine(Booking());
        Assert.IsType<WorkflowWaiting>(await coordinator.Ask<object>(new StartWorkflow("room-1", "booking"), RunTimeout));
        Assert.IsType<WorkflowPaused>(await coordinator.Ask<object>(new PauseWorkflow("room-1"), RunTimeout));

        Assert.IsType<CancellationRequested>(await coordinator.Ask<object>(new CancelWorkflow("room-1", "guests cancelled"), RunTimeout));

        await AwaitAssertAsync(async () => Assert.Equal(WorkflowRunStatus.Cancelled, (await StatusAsync(Sys, "room-1")).Status), RunTimeout);
        Assert.Equal((1, 1), (_effects.Count("book"), _effects.Count("release")));
    }

    [Fact]
    public async Task DeadlinePassesWhilePaused_ItIsCancelledAsTimedOut_AndItsCleanupRuns()
    {
        var clock = new VirtualClock(T0);
        var coordinator = StartEngine(Booking(), clock: clock);
        coordinator.Tell(new StartWorkflow("room-2", "booking") { Timeout = TimeSpan.FromHours(1) }, TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);
        Assert.IsType<WorkflowPaused>(await coordinator.Ask<object>(new PauseWorkflow("room-2"), RunTimeout));

        clock.Advance(TimeSpan.FromHours(1));

        await AwaitAssertAsync(async () =>
        {
            var status = await StatusAsync(Sys, "room-2");
            Assert.Equal(WorkflowRunStatus.Cancelled, status.Status);
            Assert.Contains("timed out", status.Error);
        }, RunTimeout);
        Assert.Equal((1, 1), (_effects.Count("book"), _effects.Count("release")));
    }

    [Fact]
    public async Task PauseAndUnpause_AreIdempotent_AndRefusedForAWorkflowThatIsNotRunning()
    {
        var coordinator = StartEngine(Booking());
        Assert.IsType<WorkflowWaiting>(await coordinator.Ask<object>(new StartWorkflow("room-3", "booking"), RunTimeout));

        Assert.IsType<WorkflowUnpaused>(await coordinator.Ask<object>(new UnpauseWorkflow("room-3"), RunTimeout));
        Assert.IsType<WorkflowPaused>(await coordinator.Ask<object>(new PauseWorkflow("room-3"), RunTimeout));
        Assert.IsType<WorkflowPaused>(await coordinator.Ask<object>(new PauseWorkflow("room-3"), RunTimeout));
        Assert.Single(JournalRows.Of(Folder.Database, "room-3"), r => r.Manifest == "PA");
        Assert.DoesNotContain(JournalRows.Of(Folder.Database, "room-3"), r => r.Manifest == "UP");

        Assert.IsType<WorkflowNotFound>(await coordinator.Ask<object>(new PauseWorkflow("nobody"), RunTimeout));
        Assert.IsType<CancellationRequested>(await coordinator.Ask<object>(new CancelWorkflow("room-3"), RunTimeout));
        await AwaitAssertAsync(async () => Assert.Equal(WorkflowRunStatus.Cancelled, (await StatusAsync(Sys, "room-3")).Status), RunTimeout);
        var rows = JournalRows.Of(Folder.Database, "room-3").Count;

        var refused = await coordinator.Ask<WorkflowRejected>(new PauseWorkflow("room-3"), RunTimeout);

        Assert.Equal("workflow 'room-3' is not running (CANCELLED); it was not paused", refused.Reason);
        Assert.Equal(rows, JournalRows.Of(Folder.Database, "room-3").Count);
    }
}
