using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

public sealed class ParallelSpec(ITestOutputHelper output) : EngineSpec(output)
{
    private readonly EffectRecorder _counter = new();

    // Branches call it between their steps so that they interleave differently on every run: unrecorded on purpose.
#pragma warning disable DURABLE0001, DURABLE0002 // A random real delay, to shuffle the branches' scheduling.
    private static async Task JitterAsync(CancellationToken ct) => await Task.Delay(Random.Shared.Next(0, 4), ct);
#pragma warning restore DURABLE0001, DURABLE0002

    /// <summary>A top step, three branches (one with a loop, one with a conditional and a nested block), a last step.</summary>
    private static WorkflowRegistry Shapes() => new WorkflowRegistry().Add<string, string>("shapes", async (ctx, _) =>
    {
        var seed = await ctx.StepAsync("seed", () => 7);
        var (a, b, c) = await ctx.ParallelAsync(
            async branch =>
            {
                var sum = 0;
                for (var i = 0; i < 3; i++)
                {
                    await JitterAsync(branch.CancellationToken);
                    sum += await branch.StepAsync("a-item", async ct => { await JitterAsync(ct); return i; });
                }
                return sum;
            },
            async branch =>
            {
                await JitterAsync(branch.CancellationToken);
                var flag = await branch.StepAsync("b-check", async ct => { await JitterAsync(ct); return seed % 2 == 1; });
                if (flag)
                {
                    var nested = await branch.ParallelAsync(
                        inner => inner.StepAsync("b-inner-x", async ct => { await JitterAsync(ct); return "x"; }),
                        inner => inner.StepAsync("b-inner-y", async ct => { await JitterAsync(ct); return "y"; }));
                    return nested.Item1 + nested.Item2;
                }
                return "even";
            },
            async branch => await branch.StepAsync("c-only", async ct => { await JitterAsync(ct); return 3.5m; }));
        await ctx.StepAsync("finish", () => "ok");
        return $"{a}|{b}|{c}";
    });

    [Fact]
    public async Task ParallelAsync_RunManyTimesWithRandomDelays_GivesTheSameKeysEveryTime()
    {
        var coordinator = StartEngine(Shapes());
        var seen = new HashSet<string>();

        for (var run = 0; run < 50; run++)
        {
            coordinator.Tell(new StartWorkflow($"shapes-{run}", "shapes"), TestActor);
            var completed = await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
            Assert.Equal("3|xy|3.5", completed.GetResult<string>());
            coordinator.Tell(new GetWorkflowStatus($"shapes-{run}"), TestActor);
            var status = await ExpectMsgAsync<WorkflowStatus>(RunTimeout);
            seen.Add(string.Join(", ", status.Steps.Select(s => $"{s.Key[(s.Key.IndexOf(':') + 1)..]} {s.StepId}").Order()));
        }

        var keys = Assert.Single(seen);
        Assert.Equal(
            "1 seed, 2.1 a-item, 2.2 a-item, 2.3 a-item, 3.1 b-check, 3.2.1 b-inner-x, 3.3.1 b-inner-y, 4.1 c-only, 5 finish",
            keys);
    }

    [Fact]
    public async Task ForEachParallelAsync_HundredBranches_CompletesWithResultsInItemOrder()
    {
        var coordinator = StartEngine(new WorkflowRegistry().Add<int, IReadOnlyList<int>>("fan-out", (ctx, count) =>
            ctx.ForEachParallelAsync(Enumerable.Range(0, count), (branch, item) =>
                branch.StepAsync("square", () => { _counter.Record("square"); return item * item; }))));

        coordinator.Tell(new StartWorkflow("fan-1", "fan-out", "100"), TestActor);

        var completed = await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => i * i), completed.GetResult<List<int>>());
        Assert.Equal(100, _counter.Count("square"));
        coordinator.Tell(new GetWorkflowStatus("fan-1"), TestActor);
        var status = await ExpectMsgAsync<WorkflowStatus>(RunTimeout);
        Assert.Equal(Enumerable.Range(1, 100).Select(i => $"fan-1:{i}.1"), status.Steps.Select(s => s.Key));
    }

    [Fact]
    public async Task ParallelAsync_OneBranchFails_CancelsTheOthersKeepsCompletedStepsAndResumeCompletesTheBlock()
    {
        var cDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new WorkflowRegistry().Add<string, string>("failing", async (ctx, _) =>
        {
            var (a, b, c) = await ctx.ParallelAsync(
                branch => branch.StepAsync("a-charge", async ct =>
                {
                    _counter.Record("a-charge");
                    await Task.WhenAll(cDone.Task, bStarted.Task).WaitAsync(ct);
                    if (_counter.Count("a-charge") == 1)
                        throw new InvalidOperationException("card declined");
                    return "charged";
                }, RetryPolicy.None),
                branch => branch.StepAsync("b-ship", async ct =>
                {
                    _counter.Record("b-ship");
                    if (_counter.Count("b-ship") == 1)
                    {
                        bStarted.SetResult();
                        await Task.Delay(Timeout.Infinite, ct);
                    }
                    return "shipped";
                }),
                async branch =>
                {
                    var receipt = await branch.StepAsync("c-reserve", () => { _counter.Record("c-reserve"); return "reserved"; });
                    cDone.TrySetResult();
                    return receipt;
                });
            return $"{a},{b},{c}";
        });
        var coordinator = StartEngine(registry);

        coordinator.Tell(new StartWorkflow("fail-1", "failing"), TestActor);
        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);

        Assert.Contains("Branch fail-1:1 (1 of 3)", failed.Error);
        Assert.Contains("step 'a-charge' (fail-1:1.1)", failed.Error);
        Assert.Contains("card declined", failed.Error);
        coordinator.Tell(new GetWorkflowStatus("fail-1"), TestActor);
        var status = await ExpectMsgAsync<WorkflowStatus>(RunTimeout);
        Assert.Equal(
            [("a-charge", StepStatus.Failed), ("b-ship", StepStatus.Failed), ("c-reserve", StepStatus.Completed)],
            status.Steps.Select(s => (s.StepId, s.Status)));
        Assert.Contains("canceled", status.Steps[1].Error);

        coordinator.Tell(new ResumeWorkflow("fail-1"), TestActor);
        var completed = await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);

        Assert.Equal("charged,shipped,reserved", completed.GetResult<string>());
        Assert.Equal((2, 2, 1), (_counter.Count("a-charge"), _counter.Count("b-ship"), _counter.Count("c-reserve")));
    }

    [Fact]
    public async Task ParallelAsync_BranchThrowsOutsideAnyStep_FailsTheBlockNamingTheBranch()
    {
        var coordinator = StartEngine(new WorkflowRegistry().Add<string, string>("crashing", async (ctx, _) =>
        {
            var results = await ctx.ParallelAsync<string>(
            [
                branch => branch.StepAsync("fine", () => "fine"),
                _ => throw new InvalidOperationException("bug in branch code"),
            ]);
            return string.Join(",", results);
        }));

        coordinator.Tell(new StartWorkflow("crash-1", "crashing"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("Branch crash-1:2 (2 of 2) of a parallel block failed outside any step", failed.Error);
        Assert.Contains("bug in branch code", failed.Error);
    }

    [Fact]
    public async Task ParallelAsync_BlockChangesItsBranchCount_FailsAsNondeterministic()
    {
        var width = 2;
        var coordinator = StartEngine(new WorkflowRegistry().Add<string, int>("widening", async (ctx, _) =>
        {
            var results = await ctx.ForEachParallelAsync(Enumerable.Range(0, width), (branch, i) => branch.StepAsync("item", () => i));
            // The first run fails after the block, so that a resume runs the code again.
            return width == 2 ? throw new InvalidOperationException("failed after the block") : results.Sum();
        }));
        coordinator.Tell(new StartWorkflow("wide-1", "widening"), TestActor);
        await ExpectMsgAsync<WorkflowFailed>(RunTimeout);

        width = 3;
        coordinator.Tell(new ResumeWorkflow("wide-1"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("holds a parallel block of 2 branches in the journal but the code now asks for a parallel block of 3 branches", failed.Error);
    }
}
