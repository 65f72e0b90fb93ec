using Akka.Actor;
using Durable.Actors.Runtime;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// Races (<see cref="IWorkflowContext.WhenAnyAsync"/>) and a wait's own token: the winner is recorded, so a replay takes
/// the same branch; the losers' waits are recorded as cancelled, so a cancelled signal wait leaves its signal to the
/// next wait and a cancelled timer never fires.
/// </summary>
public sealed class RaceSpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.passivate-after = 500ms")
{
    private readonly EffectRecorder _effects = new();
    private readonly VirtualClock _clock = new(DateTimeOffset.Parse("2026-12-06T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>An approval with a deadline, as a race: a timer against a signal wait; then one more wait for the signal.</summary>
    private static WorkflowRegistry Approval() => new WorkflowRegistry().Add<string, string>("approval", async (ctx, _) =>
    {
        string? approvedBy = null;
        var winner = await ctx.WhenAnyAsync(
            c => c.SleepAsync(TimeSpan.FromHours(1)),
            async c => approvedBy = (await c.WaitForSignalAsync<string>("approve")).Payload);
        if (winner == 1)
            return $"approved by {approvedBy}";
        var late = await ctx.WaitForSignalAsync<string>("approve");
        return $"deadline passed; approved later by {late.Payload}";
    });

    private int Rows(string workflowId, string manifest) => JournalRows.Of(Folder.Database, workflowId).Count(r => r.Manifest == manifest);

    private async Task<WorkflowStatus> StatusAsync(string workflowId) => (await DurableWorkflows.GetStatusAsync(Sys, workflowId))!;

    [Fact]
    public async Task RaceOfWaits_IsPutAwayAsOneWait_ASignalWakesItAndItsBranchWins_TheTimerIsRecordedCancelled()
    {
        var coordinator = StartEngine(Approval(), clock: _clock);
        coordinator.Tell(new StartWorkflow("race-1", "approval"), TestActor);

        // Every branch awaits a durable wait: the workflow is a row, not an actor, until one of them ends.
        var waiting = await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);
        Assert.Equal("sleeping until 2026-12-06T13:00:00.0000000+00:00 or waiting for signal 'approve'", waiting.WaitingFor);
        await AwaitAssertAsync(async () => Assert.Equal(0, await coordinator.Ask<int>(new CountWorkflowActors(), RunTimeout)), RunTimeout);

        // The offline replay check follows each branch of the undecided race as far as its record goes.
        var report = await WorkflowReplayChecker.CheckAsync(Folder.Database, Approval());
        Assert.StartsWith("3 records replay in order; the record ends at race-1:1.1, where the workflow waits (sleeping until", Assert.Single(report.Workflows).Detail);
        var stepInsteadOfSignal = new WorkflowRegistry().Add<string, string>("approval", async (ctx, _) =>
        {
            await ctx.WhenAnyAsync(c => c.SleepAsync(TimeSpan.FromHours(1)), c => c.StepAsync("ask-manager", () => "asked"));
            return "changed";
        });
        var changed = await WorkflowReplayChecker.CheckAsync(Folder.Database, stepInsteadOfSignal);
        Assert.Equal("at race-1:2.1 the record holds a wait for signal 'approve', the code asks for step 'ask-manager'", Assert.Single(changed.Workflows).Detail);

        coordinator.Tell(new SignalWorkflow("race-1", "approve", "\"grace\""), TestActor);

        await ExpectMsgAsync<SignalDelivered>(RunTimeout);
        await AwaitAssertAsync(async () => Assert.Equal("\"approved by grace\"", (await StatusAsync("race-1")).ResultJson), RunTimeout);
        Assert.Equal((1, 0), (Rows("race-1", "WC"), Rows("race-1", "TF")));
    }

    [Fact]
    public async Task DeadlineFirst_TheTimerWins_AndTheCancelledSignalWaitLeavesTheLateSignalToTheNextWait()
    {
        var coordinator = StartEngine(Approval(), clock: _clock);
        coordinator.Tell(new StartWorkflow("race-2", "approval"), TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);

        _clock.Advance(TimeSpan.FromHours(1));

        // The timer won; the race's signal wait is cancelled, and the workflow waits for the signal again.
        await AwaitAssertAsync(async () =>
        {
            Assert.Equal("waiting for signal 'approve'", (await StatusAsync("race-2")).WaitingFor);
            Assert.Equal(1, Rows("race-2", "WC"));
        }, RunTimeout);

        coordinator.Tell(new SignalWorkflow("race-2", "approve", "\"ada\""), TestActor);
        await ExpectMsgAsync<SignalDelivered>(RunTimeout);
        await AwaitAssertAsync(async () =>
            Assert.Equal("\"deadline passed; approved later by ada\"", (await StatusAsync("race-2")).ResultJson), RunTimeout);
    }

    [Fact]
    public async Task RaceOfWaitsPutAway_AHostStartedLaterRunsItOn_AndTheSignalSentThereDecidesIt()
    {
        var database = Path.Combine(Folder.Path, "restart.db");
        var (first, firstCoordinator) = TestSupport.Engine.Start(database, Approval(), extraHocon: "durable-actors.passivate-after = 500ms", clock: _clock);
        try
        {
            var reply = await firstCoordinator.Ask<object>(new StartWorkflow("race-5", "approval"), RunTimeout);
            Assert.IsType<WorkflowWaiting>(reply);
        }
        finally
        {
            await first.Terminate();
        }

        var (second, secondCoordinator) = TestSupport.Engine.Start(database, Approval(), extraHocon: "durable-actors.passivate-after = 500ms", clock: _clock);
        try
        {
            var delivered = await secondCoordinator.Ask<object>(new SignalWorkflow("race-5", "approve", "\"linus\""), RunTimeout);
            Assert.IsType<SignalDelivered>(delivered);
            await AwaitAssertAsync(async () =>
                Assert.Equal("\"approved by linus\"", (await DurableWorkflows.GetStatusAsync(second, "race-5"))!.ResultJson), RunTimeout);
            Assert.Equal((1, 0), (JournalRows.Of(database, "race-5").Count(r => r.Manifest == "WC"), JournalRows.Of(database, "race-5").Count(r => r.Manifest == "TF")));
        }
        finally
        {
            await second.Terminate();
        }
    }

    [Fact]
    public async Task RecordedWinner_AReplayTakesTheSameBranch_EvenWhenEveryBranchHasCompletedSince()
    {
        var slowMayEnd = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var afterFails = true;
        var registry = new WorkflowRegistry().Add<string, string>("race", async (ctx, _) =>
        {
            var winner = await ctx.WhenAnyAsync(
                // A body that ignores its token: it runs to its end after it lost, and its result is recorded.
                c => c.StepAsync("slow", async _ =>
                {
                    await slowMayEnd.Task;
                    _effects.Record("slow");
                    slowEnded.TrySetResult();
                    return "slow";
                }),
                c => c.StepAsync("fast", () => { _effects.Record("fast"); return "fast"; }));
            return await ctx.StepAsync("after", async _ =>
            {
                // The loser's completion is handed over before this step's failure is written, so both are recorded.
                slowMayEnd.TrySetResult();
                await slowEnded.Task;
                _effects.Record("after");
                if (afterFails)
                    throw new InvalidOperationException("not yet");
                return $"branch {winner} won";
            }, RetryPolicy.None);
        });
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("race-3", "race"), TestActor);
        Assert.Contains("not yet", (await ExpectMsgAsync<WorkflowFailed>(RunTimeout)).Error);
        var status = (await DurableWorkflows.GetStatusAsync(Sys, "race-3"))!;
        Assert.Equal(StepStatus.Completed, status.Steps.Single(s => s.StepId == "slow").Status);

        afterFails = false;
        coordinator.Tell(new ResumeWorkflow("race-3"), TestActor);

        // Both branches replay as completed now; the first in order would win a plain Task.WhenAny, the record says "fast".
        Assert.Equal("branch 1 won", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Equal((1, 1, 2), (_effects.Count("slow"), _effects.Count("fast"), _effects.Count("after")));

        // The offline replay check takes the recorded winner too, and counts the loser's records as asked.
        var report = await WorkflowReplayChecker.CheckAsync(Folder.Database, registry, new ReplayCheckOptions { IncludeFinished = true });
        var checkedRace = Assert.Single(report.Workflows);
        Assert.True(checkedRace.IsCompatible, checkedRace.Detail);
        Assert.EndsWith("the code returns", checkedRace.Detail);
        var threeBranches = new WorkflowRegistry().Add<string, string>("race", async (ctx, _) =>
        {
            await ctx.WhenAnyAsync(c => c.SleepAsync(TimeSpan.FromDays(1)), c => c.SleepAsync(TimeSpan.FromDays(2)), c => c.SleepAsync(TimeSpan.FromDays(3)));
            return "changed";
        });
        var changed = await WorkflowReplayChecker.CheckAsync(Folder.Database, threeBranches, new ReplayCheckOptions { IncludeFinished = true });
        Assert.Equal("at race-3:1 the record holds a parallel block of 2 branches, the code asks for a race of 3 branches", Assert.Single(changed.Workflows).Detail);
        Assert.Equal(1, _effects.Count("slow"));
    }

    [Fact]
    public async Task BranchThatThrowsFirst_WinsAndTheRaceThrowsWhatItThrew()
    {
        var registry = new WorkflowRegistry().Add<string, string>("failing", async (ctx, _) =>
        {
            try
            {
                await ctx.WhenAnyAsync(
                    c => c.SleepAsync(TimeSpan.FromDays(1)),
                    c => c.StepAsync("charge", () => throw new InvalidOperationException("card declined"), RetryPolicy.None));
                return "no error";
            }
            catch (InvalidOperationException e)
            {
                return await ctx.StepAsync("refund", () => $"refunded: {e.Message}");
            }
        });
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("race-4", "failing"), TestActor);

        Assert.Equal("refunded: card declined", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Equal(1, Rows("race-4", "WC"));
    }

    [Fact]
    public async Task ParallelBlock_ASiblingFails_AWaitingBranchIsCancelledSoTheBlockEnds()
    {
        var registry = new WorkflowRegistry().Add<string, string>("block", async (ctx, _) =>
        {
            await ctx.ParallelAsync(
                c => c.WaitForSignalAsync<string>("never"),
                c => c.StepAsync("boom", () => throw new InvalidOperationException("boom"), RetryPolicy.None));
            return "ended";
        });
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("block-1", "block"), TestActor);

        // Before waits had tokens, the block waited for the signal wait forever.
        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("boom", failed.Error);
        Assert.Equal(1, Rows("block-1", "WC"));
    }

    [Fact]
    public async Task WaitsOwnToken_CancelledByTheCode_ThrowsAndIsReplayedAsCancelled()
    {
        var afterFails = true;
        var registry = new WorkflowRegistry().Add<string, string>("own-token", async (ctx, _) =>
        {
            using var stop = new CancellationTokenSource();
            var results = await ctx.ParallelAsync<string>(
            [
                async c =>
                {
                    try
                    {
                        await c.SleepAsync(TimeSpan.FromDays(30), stop.Token);
                        return "slept";
                    }
                    catch (OperationCanceledException e) when (e.CancellationToken == stop.Token)
                    {
                        return "woken";
                    }
                },
                async c =>
                {
                    await c.WaitForSignalAsync<string>("wake");
                    await stop.CancelAsync();
                    return "signalled";
                },
            ]);
            return await ctx.StepAsync("after", () =>
            {
                _effects.Record("after");
                return afterFails ? throw new InvalidOperationException("not yet") : string.Join(",", results);
            }, RetryPolicy.None);
        });
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("own-1", "own-token"), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(Rows("own-1", "TS") == 1 && Rows("own-1", "SW") == 1), RunTimeout, interval: TestSupport.Polling.Interval);

        coordinator.Tell(new SignalWorkflow("own-1", "wake", "null"), TestActor);
        await ExpectMsgAsync<SignalDelivered>(RunTimeout);
        await ExpectMsgAsync<WorkflowFailed>(RunTimeout);

        // The replay does not cancel the token before the timer is asked: the record says it was cancelled.
        afterFails = false;
        coordinator.Tell(new ResumeWorkflow("own-1"), TestActor);
        Assert.Equal("woken,signalled", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Equal(1, Rows("own-1", "WC"));
    }
}
