using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>Stops the system in the middle of a parallel block: one branch done, the other half way.</summary>
public sealed class ParallelCrashSpec
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Resume_AfterStopInTheMiddleOfAParallelBlock_RunsOnlyTheUnfinishedBranchesRemainingSteps()
    {
        using var folder = new TempFolder();
        var counter = new EffectRecorder();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var halfWay = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstSystem = true;
        var registry = new WorkflowRegistry().Add<string, string>("two-branches", async (ctx, _) =>
        {
            var (left, right) = await ctx.ParallelAsync(
                async branch =>
                {
                    var l1 = await branch.StepAsync("left-1", () => { counter.Record("left-1"); return "L1"; });
                    var l2 = await branch.StepAsync("left-2", () => { counter.Record("left-2"); return "L2"; });
                    return l1 + l2;
                },
                async branch =>
                {
                    var r1 = await branch.StepAsync("right-1", () => { counter.Record("right-1"); return "R1"; });
                    if (firstSystem)
                    {
                        halfWay.TrySetResult();
                        await gate.Task.WaitAsync(branch.CancellationToken);
                    }
                    var r2 = await branch.StepAsync("right-2", () => { counter.Record("right-2"); return "R2"; });
                    return r1 + r2;
                });
            return left + right;
        });

        var leftDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var rightOneRecorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new RecordingObserver
        {
            OnReport = r =>
            {
                if (r is { Kind: StepReportKind.Executed, StepId: "left-2" })
                    leftDone.TrySetResult();
                if (r is { Kind: StepReportKind.Executed, StepId: "right-1" })
                    rightOneRecorded.TrySetResult();
            },
        };
        var (first, coordinator) = TestSupport.Engine.Start(folder.Database, registry, observer);
        coordinator.Tell(new StartWorkflow("par-1", "two-branches"), ActorRefs.NoSender);
        // right-1's COMPLETED record is written on its own once the branch waits outside steps.
        await Task.WhenAll(halfWay.Task, leftDone.Task, rightOneRecorded.Task).WaitAsync(Timeout);
        await first.Terminate();
        firstSystem = false;

        var (second, secondCoordinator) = TestSupport.Engine.Start(folder.Database, registry);
        try
        {
            var reply = await secondCoordinator.Ask<WorkflowCompleted>(new ResumeWorkflow("par-1"), Timeout);

            Assert.Equal("L1L2R1R2", reply.GetResult<string>());
            Assert.Equal(
                new Dictionary<string, int> { ["left-1"] = 1, ["left-2"] = 1, ["right-1"] = 1, ["right-2"] = 1 },
                counter.Counts);
            var status = await DurableWorkflows.GetStatusAsync(second, "par-1");
            Assert.Equal(["par-1:1.1", "par-1:1.2", "par-1:2.1", "par-1:2.2"], status!.Steps.Select(s => s.Key));
        }
        finally
        {
            await second.Terminate();
        }
    }
}
