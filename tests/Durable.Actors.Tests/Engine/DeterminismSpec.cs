using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

public sealed class DeterminismSpec(ITestOutputHelper output) : EngineSpec(output)
{
    [Fact]
    public async Task Resume_CodeAsksForAnotherStepAtARecordedKey_FailsNamingWorkflowKeyAndBothStepIds()
    {
        var counter = new EffectRecorder();
        var version = 1;
        var registry = new WorkflowRegistry().Add<string, string>("evolving", async (ctx, _) =>
        {
            await ctx.StepAsync("reserve-stock", () => counter.Record("reserve-stock"));
            if (version == 1)
                await ctx.StepAsync("charge-card", () => counter.Record("charge-card"));
            else
                await ctx.StepAsync("send-invoice", () => counter.Record("send-invoice"));
            // The first run fails after its steps, so that a resume runs the code again (a completed workflow never does).
            return version == 1 ? throw new InvalidOperationException("failed after charging") : "done";
        });
        var coordinator = StartEngine(registry);
        coordinator.Tell(new StartWorkflow("order-7", "evolving"), TestActor);
        await ExpectMsgAsync<WorkflowFailed>(RunTimeout);

        version = 2;
        coordinator.Tell(new ResumeWorkflow("order-7"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("'order-7'", failed.Error);
        Assert.Contains("'order-7:2'", failed.Error);
        Assert.Contains("'charge-card'", failed.Error);
        Assert.Contains("'send-invoice'", failed.Error);
        Assert.Equal(0, counter.Count("send-invoice"));
        Assert.Equal(1, counter.Count("charge-card"));
    }

    [Fact]
    public async Task Resume_CodeAsksForAParallelBlockWhereATimerIsRecorded_FailsAndRunsNoBranch()
    {
        var counter = new EffectRecorder();
        var version = 1;
        var registry = new WorkflowRegistry().Add<string, string>("evolving-wait", async (ctx, _) =>
        {
            await ctx.StepAsync("first", () => counter.Record("first"));
            if (version == 1)
                await ctx.SleepAsync(TimeSpan.FromMilliseconds(10));
            else
                await ctx.ParallelAsync<int>(
                [
                    branch => branch.StepAsync("left", () => { counter.Record("left"); return 1; }),
                    branch => branch.StepAsync("right", () => { counter.Record("right"); return 2; }),
                ]);
            return version == 1 ? throw new InvalidOperationException("failed after sleeping") : "done";
        });
        var coordinator = StartEngine(registry);
        coordinator.Tell(new StartWorkflow("wait-1", "evolving-wait"), TestActor);
        await ExpectMsgAsync<WorkflowFailed>(RunTimeout);

        version = 2;
        coordinator.Tell(new ResumeWorkflow("wait-1"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("not deterministic", failed.Error);
        Assert.Contains("step key 'wait-1:2' holds a timer in the journal but the code now asks for a parallel block of 2 branches", failed.Error);
        Assert.Equal(0, counter.Count("left"));
        Assert.Equal(0, counter.Count("right"));
    }

    [Fact]
    public async Task Resume_WorkflowSwallowsTheNondeterminismError_StillFails()
    {
        var version = 1;
        var registry = new WorkflowRegistry().Add<string, string>("swallowing", async (ctx, _) =>
        {
            try
            {
                await ctx.StepAsync(version == 1 ? "a" : "b", () => "x");
            }
            catch (WorkflowNondeterminismException)
            {
                // A workflow must not be able to hide a nondeterministic replay.
            }
            return version == 1 ? throw new InvalidOperationException("failed after step a") : "done";
        });
        var coordinator = StartEngine(registry);
        coordinator.Tell(new StartWorkflow("swallow-1", "swallowing"), TestActor);
        await ExpectMsgAsync<WorkflowFailed>(RunTimeout);

        version = 2;
        coordinator.Tell(new ResumeWorkflow("swallow-1"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("not deterministic", failed.Error);
    }
}
