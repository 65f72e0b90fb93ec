using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>A workflow's custom status: a small JSON value for progress, recorded, replayed, the last one set shown by status.</summary>
public sealed class CustomStatusSpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.passivate-after = 500ms")
{
    public sealed record Progress(int Done, int Of);

    private readonly EffectRecorder _effects = new();

    private WorkflowRegistry Import() => new WorkflowRegistry().Add<int, string>("import", async (ctx, count) =>
    {
        for (var i = 1; i <= count; i++)
        {
            await ctx.StepAsync("row", () => { _effects.Record("row"); return i; });
            await ctx.SetCustomStatusAsync(new Progress(i, count));
        }
        await ctx.WaitForSignalAsync<string>("publish");
        return "published";
    });

    private async Task<WorkflowStatus> StatusAsync(string workflowId) => (await DurableWorkflows.GetStatusAsync(Sys, workflowId))!;

    [Fact]
    public async Task LastValueSet_IsTheStatusWhileItWaitsAndAfterItEnds_AndAReplayWritesNoneAgain()
    {
        var coordinator = StartEngine(Import());
        coordinator.Tell(new StartWorkflow("import-1", "import", "3"), TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);

        Assert.Equal("""{"done":3,"of":3}""", (await StatusAsync("import-1")).CustomStatusJson);

        // The signal wakes the put-away workflow: its run replays the three values and writes none of them again.
        coordinator.Tell(new SignalWorkflow("import-1", "publish", "\"now\""), TestActor);
        await ExpectMsgAsync<SignalDelivered>(RunTimeout);
        await AwaitAssertAsync(async () => Assert.Equal(WorkflowRunStatus.Completed, (await StatusAsync("import-1")).Status), RunTimeout);
        Assert.Equal("""{"done":3,"of":3}""", (await StatusAsync("import-1")).CustomStatusJson);
        Assert.Equal(3, (await StatusAsync("import-1")).Steps.Count(s => s.StepId == "durable.custom-status"));
        Assert.Equal(3, _effects.Count("row"));
    }

    [Fact]
    public async Task StatusOverSixteenKilobytes_IsRefusedWithAnArgumentException_AndNothingIsRecorded()
    {
        var registry = new WorkflowRegistry().Add<string, string>("chatty", async (ctx, _) =>
        {
            try
            {
                await ctx.SetCustomStatusAsync(new string('x', 20_000));
                return "set";
            }
            catch (ArgumentException e)
            {
                return e.Message;
            }
        });
        var coordinator = StartEngine(registry);
        coordinator.Tell(new StartWorkflow("chatty-1", "chatty"), TestActor);

        var result = (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>()!;
        Assert.StartsWith("The custom status of workflow 'chatty-1' is 20,002 bytes of JSON, over the limit of 16,384.", result);
        var status = await StatusAsync("chatty-1");
        Assert.Null(status.CustomStatusJson);
        Assert.Empty(status.Steps);
    }
}
