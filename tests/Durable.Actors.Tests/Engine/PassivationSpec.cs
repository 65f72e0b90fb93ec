using Akka.Actor;
using Durable.Actors.Runtime;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>Idle workflow actors stop and are forgotten; the next request recovers them, and no request is lost on the way.</summary>
public sealed class PassivationSpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.passivate-after = 200ms")
{
    private readonly EffectRecorder _counter = new();

    private WorkflowRegistry Registry() => new WorkflowRegistry().Add<string, string>("two-steps", async (ctx, input) =>
    {
        var a = await ctx.StepAsync("a", () => { _counter.Record("a"); return input + "a"; });
        return await ctx.StepAsync("b", () => { _counter.Record("b"); return a + "b"; });
    });

    private async Task AwaitNoWorkflowActorsAsync(IActorRef coordinator) =>
        await AwaitAssertAsync(async () => Assert.Equal(0, await coordinator.Ask<int>(new CountWorkflowActors(), RunTimeout)), RunTimeout);

    [Fact]
    public async Task CompletedWorkflow_ActorStopsWhenIdle_NextRequestsRecoverItAndRunNothing()
    {
        var coordinator = StartEngine(Registry());
        coordinator.Tell(new StartWorkflow("pass-1", "two-steps", "\"x\""), TestActor);
        Assert.Equal("xab", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());

        await AwaitNoWorkflowActorsAsync(coordinator);

        coordinator.Tell(new GetWorkflowStatus("pass-1"), TestActor);
        Assert.Equal(WorkflowRunStatus.Completed, (await ExpectMsgAsync<WorkflowStatus>(RunTimeout)).Status);
        coordinator.Tell(new StartWorkflow("pass-1", "two-steps", "\"x\""), TestActor);
        Assert.Equal("xab", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Equal((1, 1), (_counter.Count("a"), _counter.Count("b")));
        await AwaitNoWorkflowActorsAsync(coordinator);
    }

    [Fact]
    public async Task RequestsForUnknownIds_LeaveNothingBehind()
    {
        var coordinator = StartEngine(Registry());

        for (var i = 0; i < 20; i++)
        {
            coordinator.Tell(new GetWorkflowStatus($"nobody-{i}"), TestActor);
            coordinator.Tell(new ResumeWorkflow($"nobody-{i}"), TestActor);
            coordinator.Tell(new StartWorkflow($"nobody-{i}", "no-such-type"), TestActor);
        }
        var replies = new List<object>();
        for (var i = 0; i < 60; i++)
            replies.Add(await ReceiveOneAsync(RunTimeout) ?? throw new TimeoutException("a request got no reply"));

        Assert.Equal(40, replies.OfType<WorkflowNotFound>().Count());
        Assert.Equal(20, replies.OfType<WorkflowRejected>().Count());

        await AwaitNoWorkflowActorsAsync(coordinator);
    }

    [Fact]
    public async Task RequestArrivesWhileTheActorStops_IsAnsweredByTheNextActor()
    {
        using var buffered = new ManualResetEventSlim();
        var late = CreateTestProbe();
        IActorRef? coordinator = null;
        var raced = 0;
        var hooks = new RuntimeHooks
        {
            // The passivating actor is stopping: a request comes in now, and the actor finishes stopping only after the
            // coordinator has kept it.
            ActorStopping = id =>
            {
                if (id != "race-1" || Interlocked.Exchange(ref raced, 1) == 1)
                    return;
                coordinator!.Tell(new GetWorkflowStatus("race-1"), late);
                buffered.Wait(RunTimeout);
            },
            RequestBuffered = id =>
            {
                if (id == "race-1")
                    buffered.Set();
            },
        };
        coordinator = DurableWorkflows.Start(Sys, Registry(), null, TimeProvider.System, hooks);

        coordinator.Tell(new StartWorkflow("race-1", "two-steps", "\"x\""), TestActor);
        await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);

        var status = await late.ExpectMsgAsync<WorkflowStatus>(RunTimeout);
        Assert.Equal(WorkflowRunStatus.Completed, status.Status);
        Assert.True(buffered.IsSet);
        await AwaitNoWorkflowActorsAsync(coordinator);
    }
}

/// <summary>A cap on idle workflow actors: past it, the longest idle passivate before passivate-after.</summary>
public sealed class IdleCapSpec(ITestOutputHelper output)
    : EngineSpec(output, "durable-actors.passivate-after = 1h\ndurable-actors.max-idle-workflows = 2")
{
    [Fact]
    public async Task ManyFinishedWorkflows_OnlyTheCapStaysInMemory_AndTheOthersAnswerAfterRecovery()
    {
        var coordinator = StartEngine(new WorkflowRegistry().Add<int, int>("double", async (ctx, n) => await ctx.StepAsync("double", () => n * 2)));

        for (var i = 0; i < 6; i++)
        {
            coordinator.Tell(new StartWorkflow($"cap-{i}", "double", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), TestActor);
            await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        }

        await AwaitAssertAsync(async () => Assert.Equal(2, await coordinator.Ask<int>(new CountWorkflowActors(), RunTimeout)), RunTimeout);
        coordinator.Tell(new StartWorkflow("cap-0", "double", "0"), TestActor);
        Assert.Equal(0, (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<int>());
    }
}
