using Akka.Actor;
using Akka.Event;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// Journal writes that fail for real: another connection holds the SQLite write lock longer than the busy timeout.
/// The workflow actor stops, its supervisor restarts it with backoff, it recovers from the journal and carries on.
/// </summary>
public sealed class SupervisionSpec(ITestOutputHelper output) : EngineSpec(output, """
    durable-actors.sqlite.busy-timeout = 100ms
    durable-actors.supervision.min-backoff = 100ms
    durable-actors.supervision.max-restarts = 2
    """)
{
    private readonly EffectRecorder _counter = new();
    private SqliteConnection? _lock;

    /// <summary>
    /// Takes the database's write lock once step 1's COMPLETED record is durable (it rides with step 2's IN_PROGRESS
    /// record), so step 2's body runs and the write of its COMPLETED record (with step 3's IN_PROGRESS) fails.
    /// </summary>
    private (IActorRef Coordinator, TaskCompletionSource Locked) StartLockingEngine()
    {
        var locked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new RecordingObserver
        {
            OnReport = r =>
            {
                if (r is not { Kind: StepReportKind.Executed, StepId: "reserve" } || _lock is not null)
                    return;
                _lock = new SqliteConnection($"Data Source={Folder.Database};Pooling=False");
                _lock.Open();
                using var begin = _lock.CreateCommand();
                begin.CommandText = "BEGIN EXCLUSIVE";
                begin.ExecuteNonQuery();
                locked.SetResult();
            },
        };
        var registry = new WorkflowRegistry().Add<string, string>("locked", async (ctx, _) =>
        {
            await ctx.StepAsync("reserve", () => _counter.Record("reserve"));
            await ctx.StepAsync("ship", () => _counter.Record("ship"));
            await ctx.StepAsync("notify", () => _counter.Record("notify"));
            return "done";
        });
        return (StartEngine(registry, observer), locked);
    }

    private void ReleaseLock()
    {
        using (var rollback = _lock!.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }
        _lock.Dispose();
    }

    [Fact]
    public async Task JournalWriteFails_ActorIsRestartedRecoversAndTheRunCarriesOnToTheOriginalRequester()
    {
        var errors = CreateTestProbe();
        Sys.EventStream.Subscribe(errors, typeof(Error));
        var (coordinator, locked) = StartLockingEngine();

        coordinator.Tell(new StartWorkflow("locked-1", "locked"), TestActor);
        await locked.Task.WaitAsync(RunTimeout);
        var error = await errors.FishForMessageAsync<Error>(e => e.Message.ToString()!.Contains("could not write"), RunTimeout);
        Assert.Contains("database is locked", error.Cause.Message);
        ReleaseLock();

        var completed = await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        Assert.Equal("done", completed.GetResult<string>());
        // No step runs twice: the completion the failed write carried outlives the actor, and its next incarnation
        // writes it before the run asks for the step, which then replays.
        Assert.Equal((1, 1, 1), (_counter.Count("reserve"), _counter.Count("ship"), _counter.Count("notify")));
        var status = await DurableWorkflows.GetStatusAsync(Sys, "locked-1");
        Assert.Equal([1, 1, 1], status!.Steps.Select(s => s.Attempts));
        Assert.All(status.Steps, s => Assert.Equal(StepStatus.Completed, s.Status));
        Assert.All(status.Steps, s => Assert.Empty(s.Failures));
    }

    [Fact]
    public async Task JournalStaysLocked_SupervisorGivesUpWithAClearErrorAndNothingRecordedIsLost()
    {
        var (coordinator, locked) = StartLockingEngine();

        coordinator.Tell(new StartWorkflow("locked-2", "locked"), TestActor);
        await locked.Task.WaitAsync(RunTimeout);

        var failed = await ExpectMsgAsync<WorkflowFailed>(TimeSpan.FromSeconds(60));
        Assert.Contains("workflow 'locked-2' gave up after 2 restarts", failed.Error);
        Assert.Contains("database is locked", failed.Error);
        Assert.Contains("Nothing recorded was lost", failed.Error);
        ReleaseLock();

        coordinator.Tell(new ResumeWorkflow("locked-2"), TestActor);
        Assert.Equal("done", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        // The completion of the step whose body returned is kept by the host after the supervisor gave up: the next
        // actor writes it, and the step is never run again.
        Assert.Equal((1, 1, 1), (_counter.Count("reserve"), _counter.Count("ship"), _counter.Count("notify")));
        var status = await DurableWorkflows.GetStatusAsync(Sys, "locked-2");
        Assert.All(status!.Steps, s => Assert.Empty(s.Failures));
    }
}
