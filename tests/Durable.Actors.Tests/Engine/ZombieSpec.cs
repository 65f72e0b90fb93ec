using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// An IN_PROGRESS record left by a stopped system (a zombie), resumed by a new system whose clock the test sets:
/// older than the stale timeout it runs again at once; younger, the run waits until it turns stale.
/// </summary>
public sealed class ZombieSpec : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempFolder _folder = new();
    private readonly EffectRecorder _counter = new();
    private bool _hang = true;

    private WorkflowRegistry Registry() => new WorkflowRegistry().Add<string, string>("hanging", async (ctx, _) =>
    {
        await ctx.StepAsync("first", () => _counter.Record("first"));
        return await ctx.StepAsync("charge", async ct =>
        {
            _counter.Record("charge");
            if (_hang)
                await Task.Delay(System.Threading.Timeout.Infinite, ct);
            return "charged";
        });
    });

    /// <summary>Leaves step 2 IN_PROGRESS: its body hangs until the system stops under it.</summary>
    private async Task<DateTimeOffset> LeaveZombieAsync()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new RecordingObserver { OnReport = r => { if (r is { Kind: StepReportKind.Starting, StepId: "charge" }) started.TrySetResult(); } };
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, Registry(), observer);
        coordinator.Tell(new StartWorkflow("zombie", "hanging"), ActorRefs.NoSender);
        await started.Task.WaitAsync(Timeout);
        await system.Terminate();
        _hang = false;
        var (reader, _) = TestSupport.Engine.Start(_folder.Database, new WorkflowRegistry(), extraHocon: "durable-actors.recover-on-start = off");
        try
        {
            var step = (await DurableWorkflows.GetStatusAsync(reader, "zombie"))!.Steps[1];
            Assert.Equal(StepStatus.InProgress, step.Status);
            return step.StartedAt;
        }
        finally
        {
            await reader.Terminate();
        }
    }

    [Fact]
    public async Task Resume_ZombieOlderThanTheStaleTimeout_MarksItFailedAndRunsTheStepAgain()
    {
        var startedAt = await LeaveZombieAsync();
        var clock = new VirtualClock(startedAt + TimeSpan.FromSeconds(31));
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, Registry(), clock: clock,
            extraHocon: "durable-actors.stale-timeout = 30s\ndurable-actors.recover-on-start = off");
        try
        {
            var reply = await coordinator.Ask<WorkflowCompleted>(new ResumeWorkflow("zombie"), Timeout);

            Assert.Equal("charged", reply.GetResult<string>());
            Assert.Equal((1, 2), (_counter.Count("first"), _counter.Count("charge")));
            var step = (await DurableWorkflows.GetStatusAsync(system, "zombie"))!.Steps[1];
            Assert.Equal((StepStatus.Completed, 2, null), (step.Status, step.Attempts, step.Error));
            var crashed = Assert.Single(step.Failures);
            Assert.Equal("stale: IN_PROGRESS for 31s, older than the stale timeout 30s", crashed.Error);
            Assert.True(crashed.IsZombie);
            Assert.Equal((startedAt, clock.GetUtcNow()), (crashed.StartedAt, crashed.At));
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task Resume_ZombieYoungerThanTheStaleTimeoutWithNoOtherHostAlive_RunsTheStepAgainAtOnce()
    {
        var startedAt = await LeaveZombieAsync();
        var clock = new VirtualClock(startedAt + TimeSpan.FromSeconds(2));
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, Registry(), clock: clock,
            extraHocon: "durable-actors.stale-timeout = 30s\ndurable-actors.recover-on-start = off");
        try
        {
            var reply = await coordinator.Ask<WorkflowCompleted>(new ResumeWorkflow("zombie"), Timeout);

            Assert.Equal("charged", reply.GetResult<string>());
            Assert.Equal(2, _counter.Count("charge"));
            var step = (await DurableWorkflows.GetStatusAsync(system, "zombie"))!.Steps[1];
            Assert.Equal("stale: IN_PROGRESS for 2s, left by a process that has ended (no other host had the database open)",
                Assert.Single(step.Failures).Error);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task Resume_ZombieYoungerThanTheStaleTimeoutWhileAnotherHostIsAlive_WaitsUntilItTurnsStaleThenRunsIt()
    {
        var startedAt = await LeaveZombieAsync();
        // Another host has the database open (as a live process would), so the step may still be running there.
        using var otherHost = new FileStream(_folder.Database + "-hosts.lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        var clock = new VirtualClock(startedAt + TimeSpan.FromSeconds(10));
        var waiting = new TaskCompletionSource<StepReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new RecordingObserver { OnReport = r => { if (r.Kind == StepReportKind.Waiting) waiting.TrySetResult(r); } };
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, Registry(), observer, clock: clock,
            extraHocon: "durable-actors.stale-timeout = 30s\ndurable-actors.recover-on-start = off");
        try
        {
            var reply = coordinator.Ask<WorkflowCompleted>(new ResumeWorkflow("zombie"), Timeout);

            var report = await waiting.Task.WaitAsync(Timeout);
            Assert.Equal(("zombie:2", "charge"), (report.Key, report.StepId));
            Assert.Equal("IN_PROGRESS since 10s ago; it turns stale and runs again in 20s", report.Detail);
            Assert.Equal(1, _counter.Count("charge"));
            Assert.Equal(1, clock.PendingTimers);
            clock.Advance(TimeSpan.FromSeconds(20));

            Assert.Equal("charged", (await reply).GetResult<string>());
            Assert.Equal(2, _counter.Count("charge"));
        }
        finally
        {
            await system.Terminate();
        }
    }

    public void Dispose() => _folder.Dispose();
}
