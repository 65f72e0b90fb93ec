using Akka.Actor;
using Durable.Actors.Runtime;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// A step's COMPLETED record is durable no later than the next record of its context, whichever thread writes it:
/// the idle flush (a run waiting outside steps) is held at its worst moment to show it can never be overtaken.
/// </summary>
public sealed class CompletionOrderSpec(ITestOutputHelper output) : EngineSpec(output)
{
    [Fact]
    public async Task IdleFlush_HeldUntilTheNextStepStarted_StepCompletionIsStillDurableFirst()
    {
        var flushHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var nextStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var outside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hooks = new RuntimeHooks
        {
            // The idle flush found step a's completion pending and is pre-empted before it asks the actor to write it.
            BeforeIdleFlush = async key =>
            {
                if (key != "order-1:1")
                    return;
                flushHeld.TrySetResult();
                await nextStarted.Task;
            },
        };
        var observer = new RecordingObserver
        {
            OnReport = r =>
            {
                if (r is { StepId: "b", Kind: StepReportKind.Starting })
                    nextStarted.TrySetResult();
            },
        };
        var registry = new WorkflowRegistry().Add<string, string>("waits-between", async (ctx, _) =>
        {
            var a = await ctx.StepAsync("a", () => "A");
            await outside.Task; // something outside steps, longer than the idle flush's wait
            var b = await ctx.StepAsync("b", () => "B");
            return a + b;
        });
        var coordinator = DurableWorkflows.Start(Sys, registry, observer, TimeProvider.System, hooks);

        coordinator.Tell(new StartWorkflow("order-1", "waits-between"), TestActor);
        await flushHeld.Task.WaitAsync(RunTimeout);
        outside.SetResult();

        Assert.Equal("AB", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        var rows = JournalRows.Of(Folder.Database, "order-1");
        Assert.True(JournalRows.CompletedAt(rows, "order-1:1") <= JournalRows.StartedAt(rows, "order-1:2"),
            string.Join("\n", rows));
        var status = await DurableWorkflows.GetStatusAsync(Sys, "order-1");
        Assert.All(status!.Steps, s => Assert.Equal(StepStatus.Completed, s.Status));
    }
}
