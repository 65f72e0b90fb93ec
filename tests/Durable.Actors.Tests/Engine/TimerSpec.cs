using Akka.Actor;
using Durable.Actors.Runtime;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>Durable timers, on a manual clock: time moves only when the test moves it.</summary>
public sealed class TimerSpec(ITestOutputHelper output) : EngineSpec(output)
{
    private readonly EffectRecorder _counter = new();
    private readonly VirtualClock _clock = new(DateTimeOffset.Parse("2026-11-29T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private WorkflowRegistry Sleeper(TimeSpan sleep) => new WorkflowRegistry().Add<string, string>("sleeper", async (ctx, _) =>
    {
        var before = await ctx.StepAsync("before", () => { _counter.Record("before"); return "a"; });
        await ctx.SleepAsync(sleep);
        var after = await ctx.StepAsync("after", () => { _counter.Record("after"); return "b"; });
        return before + after;
    });

    private async Task<WorkflowStatus> StatusAsync(string id) => (await DurableWorkflows.GetStatusAsync(Sys, id))!;

    [Fact]
    public async Task SleepLongerThanPassivation_CallerHearsItWaits_TheHostWakesItWhenDue()
    {
        var coordinator = StartEngine(Sleeper(TimeSpan.FromHours(1)), clock: _clock);

        coordinator.Tell(new StartWorkflow("nap-1", "sleeper"), TestActor);

        var waiting = await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);
        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromHours(1), waiting.Until);
        Assert.StartsWith("sleeping until 2026-11-29T13:00:00", waiting.WaitingFor);
        Assert.StartsWith("sleeping until", (await StatusAsync("nap-1")).WaitingFor);
        // A sleeping workflow is a row, not an actor.
        await AwaitAssertAsync(async () => Assert.Equal(0, await coordinator.Ask<int>(new CountWorkflowActors(), RunTimeout)), RunTimeout);

        _clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, _counter.Count("after"));
        _clock.Advance(TimeSpan.FromMinutes(1));

        await AwaitAssertAsync(async () => Assert.Equal(WorkflowRunStatus.Completed, (await StatusAsync("nap-1")).Status), RunTimeout);
        Assert.Equal((1, 1), (_counter.Count("before"), _counter.Count("after")));
        coordinator.Tell(new ResumeWorkflow("nap-1"), TestActor);
        Assert.Equal("ab", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
    }

    [Fact]
    public async Task ShortSleep_StaysInMemoryAndTheCallerGetsTheResult()
    {
        var coordinator = StartEngine(Sleeper(TimeSpan.FromSeconds(2)), clock: _clock);

        coordinator.Tell(new StartWorkflow("nap-2", "sleeper"), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(_clock.PendingTimers == 1), RunTimeout, interval: TestSupport.Polling.Interval);
        _clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal("ab", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
    }

    [Fact]
    public async Task SleepingWorkflow_HostStopsAndAnotherStartsAfterTheDueTime_TimerFiresOnceAtStart()
    {
        var (first, coordinator) = TestSupport.Engine.Start(Folder.Database, Sleeper(TimeSpan.FromDays(90)), clock: _clock,
            extraHocon: "durable-actors.recover-on-start = off");
        Assert.IsType<WorkflowWaiting>(await coordinator.Ask<object>(new StartWorkflow("nap-3", "sleeper"), RunTimeout));
        await first.Terminate();

        // Months later (longer than a .NET timer can wait), a new host starts on the same file.
        var later = new VirtualClock(_clock.GetUtcNow() + TimeSpan.FromDays(91));
        var (second, _) = TestSupport.Engine.Start(Folder.Database, Sleeper(TimeSpan.FromDays(90)), clock: later);
        try
        {
            await AwaitAssertAsync(async () =>
                Assert.Equal(WorkflowRunStatus.Completed, (await DurableWorkflows.GetStatusAsync(second, "nap-3"))!.Status), RunTimeout);
            Assert.Equal((1, 1), (_counter.Count("before"), _counter.Count("after")));
        }
        finally
        {
            await second.Terminate();
        }
    }

    [Fact]
    public async Task NowNewGuidAndRandom_AreRecordedAndReplayTheSame()
    {
        var values = new List<(DateTimeOffset, Guid, int)>();
        var failOnce = true;
        var registry = new WorkflowRegistry().Add<string, string>("clocked", async (ctx, _) =>
        {
            var now = await ctx.NowAsync();
            var id = await ctx.NewGuidAsync();
            var dice = await ctx.RandomAsync(1, 1_000_000);
            lock (values)
                values.Add((now, id, dice));
            if (failOnce)
            {
                failOnce = false;
                throw new InvalidOperationException("fail after recording");
            }
            return id.ToString();
        });
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("clock-1", "clocked"), TestActor);
        await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        _clock.Advance(TimeSpan.FromHours(5));

        coordinator.Tell(new ResumeWorkflow("clock-1"), TestActor);

        await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        Assert.Equal(2, values.Count);
        Assert.Equal(values[0], values[1]);
        Assert.Equal(DateTimeOffset.Parse("2026-11-29T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture), values[0].Item1);
    }

    [Fact]
    public async Task CodeAsksForAStepWhereATimerIsRecorded_FailsAsNondeterministic()
    {
        var version = 1;
        var registry = new WorkflowRegistry().Add<string, string>("changing", async (ctx, _) =>
        {
            if (version == 1)
                await ctx.SleepAsync(TimeSpan.FromHours(1));
            else
                await ctx.StepAsync("instead", () => "x");
            return "done";
        });
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("nd-1", "changing"), TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);

        version = 2;
        coordinator.Tell(new ResumeWorkflow("nd-1"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("holds a timer in the journal but the code now asks for step 'instead'", failed.Error);
    }

    [Fact]
    public async Task HostStartsOnWaitingWorkflows_RecoversNoneBeforeItsDueTime_AndSignalOnlyWaitsNotByTime()
    {
        var observer = new RecordingObserver();
        var registry = Sleeper(TimeSpan.FromHours(1)).Add<string, string>("approval", async (ctx, _) =>
        {
            await ctx.StepAsync("submit", () => _counter.Record("submit"));
            var decision = await ctx.WaitForSignalAsync<bool>("decision");
            return decision.Payload ? "yes" : "no";
        });
        var (first, coordinator) = TestSupport.Engine.Start(Folder.Database, registry, clock: _clock, extraHocon: "durable-actors.recover-on-start = off");
        Assert.IsType<WorkflowWaiting>(await coordinator.Ask<object>(new StartWorkflow("nap-5", "sleeper"), RunTimeout));
        Assert.IsType<WorkflowWaiting>(await coordinator.Ask<object>(new StartWorkflow("ask-5", "approval"), RunTimeout));
        await first.Terminate();

        var (second, next) = TestSupport.Engine.Start(Folder.Database, registry, observer, clock: _clock);
        try
        {
            // Nothing is due: the new host replays neither workflow (the index says when each is due).
            next.Tell(new GetWorkflowStatus("nobody"), TestActor);
            await ExpectMsgAsync<WorkflowNotFound>(RunTimeout);
            Assert.Empty(observer.Reports);

            _clock.Advance(TimeSpan.FromHours(1));

            await AwaitAssertAsync(async () =>
                Assert.Equal(WorkflowRunStatus.Completed, (await DurableWorkflows.GetStatusAsync(second, "nap-5"))!.Status), RunTimeout);
            Assert.DoesNotContain(observer.Reports, r => r.WorkflowId == "ask-5");
            next.Tell(new SignalWorkflow("ask-5", "decision", "true"), TestActor);
            await ExpectMsgAsync<SignalDelivered>(RunTimeout);
            await AwaitAssertAsync(async () =>
                Assert.Equal("\"yes\"", (await DurableWorkflows.GetStatusAsync(second, "ask-5"))!.ResultJson), RunTimeout);
        }
        finally
        {
            await second.Terminate();
        }
    }
}
