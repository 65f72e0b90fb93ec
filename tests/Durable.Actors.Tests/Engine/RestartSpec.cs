using Akka.Event;
using Durable.Actors.Runtime;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// A workflow's actor restarts in the middle of a run (a journal write failed, or an exception inside the actor) while
/// no caller waits on a reply: the run carries on all the same, and a step body still running from before the restart
/// is never run a second time beside it.
/// </summary>
public sealed class RestartSpec(ITestOutputHelper output) : EngineSpec(output, """
    durable-actors.sqlite.busy-timeout = 100ms
    durable-actors.supervision.min-backoff = 50ms
    durable-actors.supervision.max-restarts = 5
    """)
{
    private readonly EffectRecorder _counter = new();

    private WorkflowRegistry TwoSteps() => new WorkflowRegistry().Add<string, string>("two-steps", async (ctx, input) =>
    {
        var a = await ctx.StepAsync("a", () => { _counter.Record("a"); return input + "a"; });
        var b = await ctx.StepAsync("b", () => { _counter.Record("b"); return a + "b"; });
        return b;
    });

    /// <summary>Throws once inside the workflow's actor when it gets the first message that <paramref name="when"/> picks.</summary>
    private static RuntimeHooks ThrowOnce(Func<object, bool> when)
    {
        var thrown = 0;
        return new RuntimeHooks
        {
            BeforeCommand = message =>
            {
                if (when(message) && Interlocked.Exchange(ref thrown, 1) == 0)
                    throw new InvalidOperationException("a bug in the engine");
            },
        };
    }

    [Fact]
    public async Task TypedClientStart_ExceptionInsideTheActor_TheRunCarriesOnWithNoCallerWaiting()
    {
        DurableWorkflows.Start(Sys, TwoSteps(), null, TimeProvider.System, ThrowOnce(m => m is BeginStep { StepId: "b" }));
        var client = DurableWorkflows.Client(Sys);

        // Answered once the start is durable, before the run: nobody waits on the actor when it restarts.
        var handle = await client.StartAsync<string, string>("two-steps", "typed-1", "x");

        Assert.Equal("xab", await handle.GetResultAsync().WaitAsync(RunTimeout));
        Assert.Equal((1, 1), (_counter.Count("a"), _counter.Count("b")));
    }

    [Fact]
    public async Task TypedClientStart_JournalWriteFails_TheRunCarriesOnWithNoCallerWaiting()
    {
        var errors = CreateTestProbe();
        Sys.EventStream.Subscribe(errors, typeof(Error));
        SqliteConnection? held = null;
        var observer = new RecordingObserver
        {
            // Step a's body returned: the write that carries its completion (with b's start) fails on the held lock.
            OnReport = r =>
            {
                if (r is not { Kind: StepReportKind.Executed, StepId: "a" } || held is not null)
                    return;
                held = new SqliteConnection($"Data Source={Folder.Database};Pooling=False");
                held.Open();
                using var begin = held.CreateCommand();
                begin.CommandText = "BEGIN EXCLUSIVE";
                begin.ExecuteNonQuery();
            },
        };
        DurableWorkflows.Start(Sys, TwoSteps(), observer, TimeProvider.System);
        var handle = await DurableWorkflows.Client(Sys).StartAsync<string, string>("two-steps", "typed-2", "x");

        await errors.FishForMessageAsync<Error>(e => e.Message.ToString()!.Contains("could not write"), RunTimeout);
        using (var rollback = held!.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }
        held.Dispose();

        Assert.Equal("xab", await handle.GetResultAsync().WaitAsync(RunTimeout));
        Assert.Equal((1, 1), (_counter.Count("a"), _counter.Count("b")));
    }

    [Fact]
    public async Task SignalBegunRun_ExceptionInsideTheActor_TheRunCarriesOn()
    {
        var registry = new WorkflowRegistry().Add<string, string>("awaits-go", async (ctx, _) =>
        {
            await ctx.StepAsync("a", () => _counter.Record("a"));
            var go = await ctx.WaitForSignalAsync<string>("go");
            return await ctx.StepAsync("b", () => { _counter.Record("b"); return "went " + go.Payload; });
        });
        DurableWorkflows.Start(Sys, registry, null, TimeProvider.System, ThrowOnce(m => m is BeginStep { StepId: "b" }));
        var handle = await DurableWorkflows.Client(Sys).StartAsync<string, string>("awaits-go", "signalled-1", "x");

        await handle.SignalAsync("go", "north");

        Assert.Equal("went north", await handle.GetResultAsync().WaitAsync(RunTimeout));
        Assert.Equal((1, 1), (_counter.Count("a"), _counter.Count("b")));
    }

    [Fact]
    public async Task CancelBegunRun_ExceptionInsideTheActor_TheRunEndsCancelledAfterItsCleanup()
    {
        var registry = new WorkflowRegistry().Add<string, string>("cleans-up", async (ctx, _) =>
        {
            await ctx.StepAsync("a", () => _counter.Record("a"));
            try
            {
                await ctx.SleepAsync(TimeSpan.FromDays(1));
            }
            catch (OperationCanceledException)
            {
                await ctx.StepAsync("undo", () => _counter.Record("undo"));
                throw;
            }
            return "slept";
        });
        DurableWorkflows.Start(Sys, registry, null, TimeProvider.System, ThrowOnce(m => m is BeginStep { StepId: "undo" }));
        var handle = await DurableWorkflows.Client(Sys).StartAsync<string, string>("cleans-up", "cancelled-1", "x");
        await AwaitAssertAsync(async () => Assert.Contains((await handle.GetStatusAsync()).Steps, s => s.StepId == "a" && s.Status == StepStatus.Completed),
            RunTimeout);

        await handle.CancelAsync("not needed");

        var cancelled = await Assert.ThrowsAsync<WorkflowCancelledException>(() => handle.GetResultAsync().WaitAsync(RunTimeout));
        Assert.Contains("not needed", cancelled.Message);
        Assert.Equal((1, 1), (_counter.Count("a"), _counter.Count("undo")));
    }

    [Fact]
    public async Task ActorRestartsWhileAStepBodyRuns_TheBodyIsNeverRunASecondTimeBesideIt_AndItsResultIsRecorded()
    {
        var running = 0;
        var mostAtOnce = 0;
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new WorkflowRegistry().Add<string, string>("slow", async (ctx, _) =>
        {
            var slow = await ctx.StepAsync("slow", async ct =>
            {
                _counter.Record("slow");
                var now = Interlocked.Increment(ref running);
                InterlockedMax(ref mostAtOnce, now);
                entered.TrySetResult();
                // A body that does not observe its token: it runs on after its actor stopped.
                await release.Task;
                Interlocked.Decrement(ref running);
                return "done";
            });
            return await ctx.StepAsync("next", () => slow + " and next");
        });
        // The second run of the restarted actor reaches the slow step while the first body still runs: it waits for it.
        var decided = new TaskCompletionSource<StepReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new RecordingObserver
        {
            OnReport = r =>
            {
                if (r.StepId == "slow" && (r.Kind == StepReportKind.Waiting || r.Kind == StepReportKind.Starting && r.Attempt > 1))
                    decided.TrySetResult(r);
            },
        };
        var coordinator = DurableWorkflows.Start(Sys, registry, observer, TimeProvider.System,
            ThrowOnce(m => m is WorkflowRequest { Command: GetWorkflowStatus }));
        coordinator.Tell(new StartWorkflow("slow-1", "slow"), TestActor);
        await entered.Task.WaitAsync(RunTimeout);

        // The status request makes the actor throw: it restarts, and the start's request is taken up again.
        coordinator.Tell(new GetWorkflowStatus("slow-1"), TestActor);
        await ExpectMsgAsync<WorkflowStatus>(RunTimeout);
        var report = await decided.Task.WaitAsync(RunTimeout);
        Assert.Equal(StepReportKind.Waiting, report.Kind);
        Assert.Contains("still running in this process", report.Detail);
        release.SetResult();

        Assert.Equal("done and next", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Equal(1, mostAtOnce);
        Assert.Equal(1, _counter.Count("slow"));
        var status = await DurableWorkflows.GetStatusAsync(Sys, "slow-1");
        var slowStep = Assert.Single(status!.Steps, s => s.StepId == "slow");
        Assert.Equal((StepStatus.Completed, 1), (slowStep.Status, slowStep.Attempts));
        Assert.Empty(slowStep.Failures);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
