using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>A completed workflow's result is final: starting or resuming it answers the result and runs none of its code.</summary>
public sealed class CompletedWorkflowSpec(ITestOutputHelper output) : EngineSpec(output)
{
    private readonly EffectRecorder _counter = new();

    [Fact]
    public async Task StartInANewHost_CompletedSagaWithACaughtFailure_RunsNothingAgain()
    {
        WorkflowRegistry Saga() => new WorkflowRegistry().Add<string, string>("saga", async (ctx, _) =>
        {
            await ctx.StepAsync("reserve", () => _counter.Record("reserve"));
            try
            {
                await ctx.StepAsync("charge", () =>
                {
                    _counter.Record("charge");
                    throw new InvalidOperationException("card declined");
                }, RetryPolicy.None);
            }
            catch (InvalidOperationException)
            {
                await ctx.StepAsync("release", () => _counter.Record("release"));
                return "compensated";
            }
            return "charged";
        });
        var (first, firstCoordinator) = TestSupport.Engine.Start(Folder.Database, Saga());
        Assert.Equal("compensated", (await firstCoordinator.Ask<WorkflowCompleted>(new StartWorkflow("saga-1", "saga"), RunTimeout)).GetResult<string>());
        await first.Terminate();

        var (second, coordinator) = TestSupport.Engine.Start(Folder.Database, Saga());
        try
        {
            var again = await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("saga-1", "saga"), RunTimeout);
            var resumed = await coordinator.Ask<WorkflowCompleted>(new ResumeWorkflow("saga-1"), RunTimeout);

            Assert.Equal(("compensated", "compensated"), (again.GetResult<string>(), resumed.GetResult<string>()));
            Assert.Equal((1, 1, 1), (_counter.Count("reserve"), _counter.Count("charge"), _counter.Count("release")));
        }
        finally
        {
            await second.Terminate();
        }
    }

    [Fact]
    public async Task Start_CompletedWorkflowWhoseCodeNowAppendsAStep_KeepsItsResultAndRunsNoNewStep()
    {
        var version = 1;
        var registry = new WorkflowRegistry().Add<string, string>("appending", async (ctx, _) =>
        {
            var result = await ctx.StepAsync("a", () => { _counter.Record("a"); return "a"; });
            result += await ctx.StepAsync("b", () => { _counter.Record("b"); return "b"; });
            if (version == 2)
                result += await ctx.StepAsync("c", () => { _counter.Record("c"); return "c"; });
            return result;
        });
        var coordinator = StartEngine(registry);
        coordinator.Tell(new StartWorkflow("append-1", "appending"), TestActor);
        Assert.Equal("ab", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());

        version = 2;
        coordinator.Tell(new StartWorkflow("append-1", "appending"), TestActor);

        Assert.Equal("ab", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Equal(0, _counter.Count("c"));
        var status = await DurableWorkflows.GetStatusAsync(Sys, "append-1");
        Assert.Equal((WorkflowRunStatus.Completed, "\"ab\"", 2), (status!.Status, status.ResultJson, status.Steps.Count));
    }

    [Fact]
    public async Task Resume_CompletedWorkflowWhoseCodeNowFails_StaysCompleted()
    {
        var broken = false;
        var registry = new WorkflowRegistry().Add<string, string>("changing", async (ctx, _) =>
        {
            var a = await ctx.StepAsync("a", () => "a");
            return broken ? throw new InvalidOperationException("new code throws") : a;
        });
        var coordinator = StartEngine(registry);
        coordinator.Tell(new StartWorkflow("change-1", "changing"), TestActor);
        await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);

        broken = true;
        coordinator.Tell(new ResumeWorkflow("change-1"), TestActor);

        Assert.Equal("a", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Equal(WorkflowRunStatus.Completed, (await DurableWorkflows.GetStatusAsync(Sys, "change-1"))!.Status);
    }
}
