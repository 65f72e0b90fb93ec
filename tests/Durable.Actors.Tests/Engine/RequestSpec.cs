using Akka.Actor;
using Akka.Event;
using Durable.Actors.Runtime;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>Requests and replies: every request is answered once, with the real cause, and no workflow code runs on the actor.</summary>
public sealed class RequestSpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.supervision.min-backoff = 50ms")
{
    private readonly EffectRecorder _counter = new();

    private WorkflowRegistry TwoSteps() => new WorkflowRegistry().Add<string, string>("two-steps", async (ctx, input) =>
    {
        var a = await ctx.StepAsync("a", () => { _counter.Record("a"); return input + "a"; });
        var b = await ctx.StepAsync("b", () => { _counter.Record("b"); return a + "b"; });
        return b;
    });

    [Fact]
    public async Task SameCommandObjectSentTwice_BothSendersGetTheReply()
    {
        var coordinator = StartEngine(TwoSteps());
        var start = new StartWorkflow("twice-1", "two-steps", "\"x\"");
        var first = CreateTestProbe();
        var second = CreateTestProbe();

        // A retry after an Ask timeout re-sends the very same message object.
        coordinator.Tell(start, first);
        coordinator.Tell(start, second);

        Assert.Equal("xab", (await first.ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Equal("xab", (await second.ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Equal((1, 1), (_counter.Count("a"), _counter.Count("b")));
    }

    [Fact]
    public async Task ExceptionInsideTheActor_RunCarriesOnAfterTheRestartAndNoStepRunsTwice()
    {
        var thrown = 0;
        var hooks = new RuntimeHooks
        {
            BeforeCommand = message =>
            {
                if (message is BeginStep { StepId: "b" } && Interlocked.Exchange(ref thrown, 1) == 0)
                    throw new InvalidOperationException("a bug in the engine");
            },
        };
        var coordinator = DurableWorkflows.Start(Sys, TwoSteps(), null, TimeProvider.System, hooks);

        coordinator.Tell(new StartWorkflow("bug-1", "two-steps", "\"x\""), TestActor);

        Assert.Equal("xab", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Equal(1, thrown);
        // Step a's body returned before the actor failed: its completion outlived the actor and it was not run again.
        Assert.Equal((1, 1), (_counter.Count("a"), _counter.Count("b")));
    }

    [Fact]
    public async Task ExceptionInsideTheActorEveryTime_WaiterGetsTheRealCause()
    {
        var hooks = new RuntimeHooks
        {
            BeforeCommand = message =>
            {
                if (message is BeginStep { StepId: "b" })
                    throw new InvalidOperationException("a bug in the engine");
            },
        };
        var coordinator = DurableWorkflows.Start(Sys, TwoSteps(), null, TimeProvider.System, hooks);

        coordinator.Tell(new StartWorkflow("bug-2", "two-steps", "\"x\""), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("gave up after", failed.Error);
        Assert.Contains("a bug in the engine", failed.Error);
        Assert.DoesNotContain("shutting down", failed.Error);
        Assert.Equal(1, _counter.Count("a"));
    }

    [Fact]
    public async Task CancellationCallbacksOfTheRun_NeverRunOnTheActorsThread()
    {
        var callbackEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        var registry = new WorkflowRegistry().Add<string, string>("registers", async (ctx, _) =>
        {
            // Workflow code that blocks when the run's token is cancelled (its end cancels it).
            ctx.CancellationToken.Register(() =>
            {
                callbackEntered.TrySetResult();
                release.Wait(RunTimeout);
            });
            return await ctx.StepAsync("a", () => "done");
        });
        var coordinator = StartEngine(registry);

        coordinator.Tell(new StartWorkflow("cb-1", "registers"), TestActor);

        Assert.Equal("done", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        await callbackEntered.Task.WaitAsync(RunTimeout);
        // The callback still blocks, and the workflow's actor answers.
        coordinator.Tell(new GetWorkflowStatus("cb-1"), TestActor);
        Assert.Equal(WorkflowRunStatus.Completed, (await ExpectMsgAsync<WorkflowStatus>(RunTimeout)).Status);
        release.Set();
    }

    [Fact]
    public async Task ObserverThrows_RunCompletesAndTheErrorIsLoggedOnce()
    {
        var errors = CreateTestProbe();
        Sys.EventStream.Subscribe(errors, typeof(Error));
        var observer = new RecordingObserver { OnReport = _ => throw new InvalidOperationException("observer bug") };
        var coordinator = StartEngine(TwoSteps(), observer);

        coordinator.Tell(new StartWorkflow("obs-1", "two-steps", "\"x\""), TestActor);
        await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        coordinator.Tell(new StartWorkflow("obs-2", "two-steps", "\"y\""), TestActor);
        await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);

        // Every report of both runs was made before their replies: their log events are already in the probe's queue.
        var logged = new List<Error>();
        while (errors.HasMessages)
            logged.Add((Error)await errors.ReceiveOneAsync(TimeSpan.Zero)!);
        var observerErrors = logged.Where(e => e.Message.ToString()!.Contains("observer", StringComparison.Ordinal)).ToList();
        var error = Assert.Single(observerErrors);
        Assert.Contains("observer bug", error.Cause.Message);
        Assert.Contains(nameof(RecordingObserver), error.Message.ToString());
    }
}
