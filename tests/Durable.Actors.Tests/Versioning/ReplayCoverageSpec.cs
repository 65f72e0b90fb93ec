using Akka.Actor;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Versioning;

/// <summary>
/// The replay check on every kind of record the engine makes (recorded values, timers, signal waits, parallel blocks,
/// patches in branches, children, cancellation), written by an in-process host that is stopped before the check.
/// </summary>
public sealed class ReplayCoverageSpec : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    // v1 has a patch in a parallel branch; v2 removed the patch and kept its new path; v3 also dropped the last step.
    private static WorkflowRegistry Registry(int version) => new WorkflowRegistry()
        .Add<int, int>("child", async (ctx, n) => await ctx.StepAsync("double", () => n * 2))
        .Add<string, string>("everything", async (ctx, _) =>
        {
            await ctx.NowAsync();
            await ctx.NewGuidAsync();
            var dice = await ctx.RandomAsync(1, 7);
            await ctx.SleepAsync(TimeSpan.FromMilliseconds(1));
            var signal = await ctx.WaitForSignalAsync<string>("never", TimeSpan.Zero);
            var (a, b) = await ctx.ParallelAsync(
                c => c.StepAsync("a", () => 1),
                async c => version == 1 && !await c.PatchedAsync("b-twice") ? await c.StepAsync("b", () => 2) : await c.StepAsync("b2", () => 4));
            var doubled = await ctx.RunChildAsync<int, int>("child", 21);
            if (version < 3)
                await ctx.StepAsync("last", () => "done");
            return $"{a} {b} {doubled} {dice} {signal.TimedOut}";
        })
        .Add<string, string>("cancellable", async (ctx, _) =>
        {
            await ctx.StepAsync("reserve", () => 1);
            try
            {
                await ctx.WaitForSignalAsync<string>("go");
            }
            catch (OperationCanceledException)
            {
                await ctx.StepAsync("release", () => 1);
                throw;
            }
            return "went";
        })
        .Add<string, int>("typed", async (ctx, _) => version == 1
            ? await ctx.StepAsync("count", () => 5)
            : (await ctx.StepAsync("count", () => new Money(5, "EUR"))).Amount);

    private sealed record Money(int Amount, string Currency);

    private async Task RecordAsync(Func<ActorSystem, IActorRef, Task> run)
    {
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, Registry(1));
        try
        {
            await run(system, coordinator);
        }
        finally
        {
            await system.Terminate();
        }
    }

    private Task<ReplayCheckReport> CheckAsync(int version) =>
        WorkflowReplayChecker.CheckAsync(_folder.Database, Registry(version), new ReplayCheckOptions { IncludeFinished = true });

    [Fact]
    public async Task Check_EveryKindOfRecord_ReplaysToTheEndAndAPatchRemovedFromABranchStillReplays()
    {
        await RecordAsync(async (_, coordinator) =>
            Assert.IsType<WorkflowCompleted>(await coordinator.Ask<object>(new StartWorkflow("e-1", "everything", "\"x\""), Timeout)));

        var same = await CheckAsync(1);
        var patchRemoved = await CheckAsync(2);
        var lastStepDropped = await CheckAsync(3);

        Assert.True(same.AllCompatible, string.Join("\n", same.Workflows));
        Assert.Equal(["e-1", "e-1/1"], same.Workflows.Select(w => w.WorkflowId));
        Assert.EndsWith("and the code returns", same.Workflows[0].Detail);
        Assert.True(patchRemoved.AllCompatible, string.Join("\n", patchRemoved.Workflows));
        var dropped = lastStepDropped.Workflows[0];
        Assert.Equal(ReplayVerdict.Incompatible, dropped.Verdict);
        Assert.Equal("the code returns without asking for step 'last' recorded at e-1:10", dropped.Detail);
    }

    [Fact]
    public async Task Check_CancelledWorkflowWithACleanupStep_Replays()
    {
        await RecordAsync(async (system, coordinator) =>
        {
            coordinator.Tell(new StartWorkflow("c-1", "cancellable", "\"x\""), ActorRefs.NoSender);
            await WaitForAsync(system, "c-1", s => s.WaitingFor is not null);
            Assert.IsType<CancellationRequested>(await coordinator.Ask<object>(new CancelWorkflow("c-1", "test"), Timeout));
            await WaitForAsync(system, "c-1", s => s.Status == WorkflowRunStatus.Cancelled);
        });

        var report = await CheckAsync(1);

        var cancelled = Assert.Single(report.Workflows);
        Assert.True(cancelled.IsCompatible, cancelled.ToString());
        Assert.Contains("3 records replay in order", cancelled.Detail);
    }

    [Fact]
    public async Task Check_StepResultTypeChanged_IsIncompatible()
    {
        await RecordAsync(async (_, coordinator) =>
            Assert.IsType<WorkflowCompleted>(await coordinator.Ask<object>(new StartWorkflow("t-1", "typed", "\"x\""), Timeout)));

        var report = await CheckAsync(2);

        var typed = Assert.Single(report.Workflows);
        Assert.Equal(ReplayVerdict.Incompatible, typed.Verdict);
        Assert.StartsWith("at t-1:1 the record holds step 'count' with a result recorded as System.Int32, the code asks for a result of type", typed.Detail);
    }

    private static async Task WaitForAsync(ActorSystem system, string id, Func<WorkflowStatus, bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (await DurableWorkflows.GetStatusAsync(system, id) is not { } status || !condition(status))
        {
            Assert.True(DateTime.UtcNow < deadline, $"workflow {id} did not reach the expected state within {Timeout}");
            await Task.Delay(50);
        }
    }
}
