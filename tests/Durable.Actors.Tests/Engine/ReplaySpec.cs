using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// Stops the whole ActorSystem right after step k completed, starts a new one on the same SQLite file and resumes:
/// every step ran exactly once across both systems and the result is that of a run with no stop.
/// </summary>
public sealed class ReplaySpec
{
    private const string Type = "loop-and-branch";
    private const int StepCount = 5;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // Three steps in a loop (same step id, keys 1-3), a conditional step on their total (4), then a receipt (5).
    private static WorkflowRegistry Registry(EffectRecorder counter) => new WorkflowRegistry()
        .Add<int, string>(Type, async (ctx, items) =>
        {
            var total = 0;
            for (var i = 0; i < items; i++)
            {
                var item = i;
                total += await ctx.StepAsync("add-item", () =>
                {
                    counter.Record($"add-item#{item}");
                    return item * 10 + 1;
                });
            }

            if (total % 2 == 1)
                total += await ctx.StepAsync("odd-bonus", () => { counter.Record("odd-bonus"); return 100; });
            else
                total += await ctx.StepAsync("even-bonus", () => { counter.Record("even-bonus"); return 1; });

            return await ctx.StepAsync("receipt", () => { counter.Record("receipt"); return $"total={total}"; });
        });

    [Fact]
    public async Task Run_WithoutStop_RunsEachStepOnce()
    {
        using var folder = new TempFolder();
        var counter = new EffectRecorder();
        var (system, coordinator) = TestSupport.Engine.Start(folder.Database, Registry(counter));
        try
        {
            var reply = await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("wf", Type, "3"), Timeout);

            Assert.Equal("total=133", reply.GetResult<string>());
            Assert.Equal(StepCount, counter.Counts.Values.Sum());
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task Resume_AfterSystemStoppedRightAfterStepK_RunsEveryStepExactlyOnce(int k)
    {
        using var folder = new TempFolder();
        var counter = new EffectRecorder();

        var executedK = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var startedNext = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        var executed = 0;
        var observer = new RecordingObserver
        {
            // Step k's COMPLETED record is durable once it is reported executed (written with step k+1's IN_PROGRESS
            // record, or on its own when the workflow idles). Step k+1 is held before its body runs until the
            // system is gone; the last step's record is written with the run's end, so nothing is held for it.
            OnReport = r =>
            {
                if (r.Kind == StepReportKind.Executed && Interlocked.Increment(ref executed) == k)
                    executedK.SetResult();
                if (r.Kind == StepReportKind.Starting && r.Key == $"wf:{k + 1}")
                {
                    startedNext.SetResult();
                    release.Wait(Timeout);
                }
            },
        };
        var (first, firstCoordinator) = TestSupport.Engine.Start(folder.Database, Registry(counter), observer);
        firstCoordinator.Tell(new StartWorkflow("wf", Type, "3"), ActorRefs.NoSender);
        await executedK.Task.WaitAsync(Timeout);
        if (k < StepCount)
            await startedNext.Task.WaitAsync(Timeout);
        await first.Terminate();
        release.Set();
        Assert.Equal(k, counter.Counts.Values.Sum());

        var (second, secondCoordinator) = TestSupport.Engine.Start(folder.Database, Registry(counter), extraHocon: "durable-actors.stale-timeout = 0s");
        try
        {
            var reply = await secondCoordinator.Ask<WorkflowCompleted>(new ResumeWorkflow("wf"), Timeout);

            Assert.Equal("total=133", reply.GetResult<string>());
            Assert.All(counter.Counts, pair => Assert.Equal(1, pair.Value));
            Assert.Equal(["add-item#0", "add-item#1", "add-item#2", "odd-bonus", "receipt"], counter.Counts.Keys.Order());
            var status = await DurableWorkflows.GetStatusAsync(second, "wf");
            Assert.Equal(
                ["wf:1 add-item", "wf:2 add-item", "wf:3 add-item", "wf:4 odd-bonus", "wf:5 receipt"],
                status!.Steps.Select(s => $"{s.Key} {s.StepId}"));
            Assert.All(status.Steps, s => Assert.Equal(StepStatus.Completed, s.Status));
            // Step k+1 was recorded as started (its body never ran in the first system), so the resume ran it as a
            // second attempt.
            Assert.Equal(Enumerable.Range(1, StepCount).Select(i => i == k + 1 ? 2 : 1), status.Steps.Select(s => s.Attempts));
        }
        finally
        {
            await second.Terminate();
        }
    }
}
