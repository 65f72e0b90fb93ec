using Akka.Actor;
using Akka.Event;
using Durable.Actors.Runtime;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// A host's recovery-on-start (and a wake-up) finds a workflow RUNNING, and the workflow fails before its wake-up
/// arrives (a caller resumed it meanwhile, or another host ran it): the wake-up runs nothing, so a step with one allowed
/// attempt is attempted once.
/// </summary>
public sealed class RecoveryRaceSpec(ITestOutputHelper output) : EngineSpec(output)
{
    private readonly EffectRecorder _counter = new();

    private WorkflowRegistry SleepThenFail() => new WorkflowRegistry().Add<string, string>("sleep-then-fail", async (ctx, _) =>
    {
        await ctx.SleepAsync(TimeSpan.FromDays(1));
        return await ctx.StepAsync<string>("boom", () =>
        {
            _counter.Record("boom");
            throw new InvalidOperationException("it broke");
        }, RetryPolicy.None);
    });

    [Fact]
    public async Task WorkflowFailsWhileTheRecoveryThatFoundItRunningIsUnderWay_TheRecoveryRunsNothing()
    {
        var (first, firstCoordinator) = TestSupport.Engine.Start(Folder.Database, SleepThenFail());
        Assert.IsType<WorkflowWaiting>(await firstCoordinator.Ask<object>(new StartWorkflow("f-1", "sleep-then-fail"), RunTimeout));
        await first.Terminate();

        // The next host starts a day and more later: the sleeping workflow is due. Its recovery has read the workflow
        // as RUNNING and is held there while a caller resumes the workflow, which fails.
        var found = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hooks = new RuntimeHooks
        {
            RecoveryFound = () =>
            {
                found.TrySetResult();
                return hold.Task;
            },
        };
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings, typeof(Warning));
        var clock = new VirtualClock(DateTimeOffset.UtcNow.AddDays(2));
        var coordinator = DurableWorkflows.Start(Sys, SleepThenFail(), null, clock, hooks);
        await found.Task.WaitAsync(RunTimeout);
        coordinator.Tell(new ResumeWorkflow("f-1"), TestActor);
        Assert.Contains("it broke", (await ExpectMsgAsync<WorkflowFailed>(RunTimeout)).Error);

        hold.SetResult();

        await warnings.FishForMessageAsync<Warning>(w => w.Message.ToString()!.Contains("Recovered workflow [f-1]"), RunTimeout);
        Assert.Equal(1, _counter.Count("boom"));
        var status = await DurableWorkflows.GetStatusAsync(Sys, "f-1");
        Assert.Equal(WorkflowRunStatus.Failed, status!.Status);
        Assert.Equal(1, Assert.Single(status.Steps).Attempts);
    }
}
