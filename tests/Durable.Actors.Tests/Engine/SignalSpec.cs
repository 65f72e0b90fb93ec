using Akka.Actor;
using Durable.Actors.Runtime;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>Signals: durable before they are acknowledged, buffered until a wait takes them, each consumed once, in order.</summary>
public sealed class SignalSpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.passivate-after = 500ms")
{
    public sealed record Decision(bool Approved, string By);

    private readonly EffectRecorder _counter = new();
    private readonly VirtualClock _clock = new(DateTimeOffset.Parse("2026-11-29T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly TaskCompletionSource _submitGate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkflowRegistry Approval(bool gated = false) => new WorkflowRegistry().Add<string, string>("approval", async (ctx, _) =>
    {
        await ctx.StepAsync("submit", async _ =>
        {
            _counter.Record("submit");
            if (gated)
                await _submitGate.Task;
            return "submitted";
        });
        var decision = await ctx.WaitForSignalAsync<Decision>("decision", TimeSpan.FromDays(3));
        if (decision.TimedOut)
            return await ctx.StepAsync("escalate", () => { _counter.Record("escalate"); return "escalated"; });
        var step = decision.Payload!.Approved ? "pay" : "reject";
        return await ctx.StepAsync(step, () => { _counter.Record(step); return $"{step} by {decision.Payload.By}"; });
    });

    [Fact]
    public async Task SignalSentWhileTheWorkflowIsPutAway_WakesItAndIsConsumedOnce()
    {
        var coordinator = StartEngine(Approval(), clock: _clock);
        coordinator.Tell(new StartWorkflow("exp-1", "approval"), TestActor);
        var waiting = await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);
        Assert.StartsWith("waiting for signal 'decision' until 2026-12-02T12:00:00", waiting.WaitingFor);

        coordinator.Tell(new SignalWorkflow("exp-1", "decision", """{"approved": true, "by": "grace"}"""), TestActor);

        await ExpectMsgAsync<SignalDelivered>(RunTimeout);
        coordinator.Tell(new ResumeWorkflow("exp-1"), TestActor);
        Assert.Equal("pay by grace", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Equal((1, 1, 0), (_counter.Count("submit"), _counter.Count("pay"), _counter.Count("reject")));
    }

    [Fact]
    public async Task SignalSentBeforeTheWorkflowWaits_IsBufferedAndConsumedByTheWait()
    {
        var coordinator = StartEngine(Approval(gated: true), clock: _clock);
        coordinator.Tell(new StartWorkflow("exp-2", "approval"), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(_counter.Count("submit") == 1), RunTimeout, interval: TestSupport.Polling.Interval);

        coordinator.Tell(new SignalWorkflow("exp-2", "decision", """{"approved": false, "by": "ada"}"""), TestActor);
        await ExpectMsgAsync<SignalDelivered>(RunTimeout);
        _submitGate.SetResult();

        Assert.Equal("reject by ada", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
    }

    [Fact]
    public async Task NoSignalBeforeTheTimeout_TheWaitTimesOutAsAnOutcome()
    {
        var coordinator = StartEngine(Approval(), clock: _clock);
        coordinator.Tell(new StartWorkflow("exp-3", "approval"), TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);

        _clock.Advance(TimeSpan.FromDays(3));

        await AwaitAssertAsync(async () =>
            Assert.Equal(WorkflowRunStatus.Completed, (await DurableWorkflows.GetStatusAsync(Sys, "exp-3"))!.Status), RunTimeout);
        Assert.Equal(1, _counter.Count("escalate"));
        // A signal sent after the workflow ended is refused, and nothing changes.
        coordinator.Tell(new SignalWorkflow("exp-3", "decision", """{"approved": true, "by": "late"}"""), TestActor);
        Assert.Contains("has ended (COMPLETED)", (await ExpectMsgAsync<WorkflowRejected>(RunTimeout)).Reason);
    }

    [Fact]
    public async Task TwoSignalsOfOneName_AreConsumedInOrderEachOnce()
    {
        var registry = new WorkflowRegistry().Add<string, string>("twice", async (ctx, _) =>
        {
            var first = await ctx.WaitForSignalAsync<int>("n");
            var second = await ctx.WaitForSignalAsync<int>("n");
            return $"{first.Payload},{second.Payload}";
        });
        var coordinator = StartEngine(registry, clock: _clock);
        coordinator.Tell(new StartWorkflow("two-1", "twice"), TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);

        coordinator.Tell(new SignalWorkflow("two-1", "n", "1"), TestActor);
        coordinator.Tell(new SignalWorkflow("two-1", "n", "2"), TestActor);
        await ExpectMsgAsync<SignalDelivered>(RunTimeout);
        await ExpectMsgAsync<SignalDelivered>(RunTimeout);

        await AwaitAssertAsync(async () =>
            Assert.Equal("\"1,2\"", (await DurableWorkflows.GetStatusAsync(Sys, "two-1"))!.ResultJson), RunTimeout);
    }

    [Fact]
    public async Task PayloadOfAnotherShape_FailsTheWaitNamingTheSignalAndTheType()
    {
        var coordinator = StartEngine(Approval(), clock: _clock);
        coordinator.Tell(new StartWorkflow("exp-4", "approval"), TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);

        coordinator.Tell(new SignalWorkflow("exp-4", "decision", "[1, 2]"), TestActor);
        await ExpectMsgAsync<SignalDelivered>(RunTimeout);
        coordinator.Tell(new ResumeWorkflow("exp-4"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("signal 'decision'", failed.Error);
        Assert.Contains("does not read as Durable.Actors.Tests.Engine.SignalSpec.Decision", failed.Error);
    }

    [Theory]
    [InlineData("nobody", "decision", "{}", typeof(WorkflowNotFound), null)]
    [InlineData("exp-5", "", "{}", typeof(WorkflowRejected), "the signal name is empty")]
    [InlineData("exp-5", "decision", "{\"approved\": ", typeof(WorkflowRejected), "is not valid JSON")]
    public async Task BadSignal_IsRefusedAndNothingIsRecorded(string id, string name, string payload, Type reply, string? reason)
    {
        var coordinator = StartEngine(Approval(), clock: _clock);
        coordinator.Tell(new StartWorkflow("exp-5", "approval"), TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);
        var before = JournalRows.Of(Folder.Database, "exp-5").Count;

        coordinator.Tell(new SignalWorkflow(id, name, payload), TestActor);

        var answer = await ReceiveOneAsync(RunTimeout);
        Assert.IsType(reply, answer);
        if (reason is not null)
            Assert.Contains(reason, ((WorkflowRejected)answer!).Reason);
        Assert.Equal(before, JournalRows.Of(Folder.Database, "exp-5").Count);
    }
}
