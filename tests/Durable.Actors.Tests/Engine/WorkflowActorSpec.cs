using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

public sealed class WorkflowActorSpec(ITestOutputHelper output) : EngineSpec(output)
{
    private readonly EffectRecorder _counter = new();

    private WorkflowRegistry Registry() => new WorkflowRegistry()
        .Add<string, string>("greeting", async (ctx, name) =>
        {
            var greeting = await ctx.StepAsync("compose", () =>
            {
                _counter.Record("compose");
                return $"Hello, {name}";
            });
            return await ctx.StepAsync("shout", async _ =>
            {
                _counter.Record("shout");
                await Task.Yield();
                return greeting.ToUpperInvariant() + "!";
            });
        })
        .Add<int, int>("flaky", async (ctx, failUntilAttempt) =>
        {
            var attempt = 0;
            await ctx.StepAsync("prepare", () => _counter.Record("prepare"));
            return await ctx.StepAsync("call-service", () =>
            {
                _counter.Record("call-service");
                attempt = _counter.Count("call-service");
                if (attempt < failUntilAttempt)
                    throw new InvalidOperationException($"service unavailable (attempt {attempt})");
                return attempt;
            }, RetryPolicy.None);
        })
        .Add<int, IReadOnlyList<string>>("loop", async (ctx, count) =>
        {
            var results = new List<string>();
            for (var i = 0; i < count; i++)
            {
                var item = i;
                results.Add(await ctx.StepAsync("process-item", () => $"item-{item}"));
            }
            return results;
        });

    [Fact]
    public async Task StartWorkflow_NewId_RepliesCompletedWithResult()
    {
        var coordinator = StartEngine(Registry());

        coordinator.Tell(new StartWorkflow("greet-1", "greeting", "\"Ada\""), TestActor);

        var completed = await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        Assert.Equal("greet-1", completed.WorkflowId);
        Assert.Equal("HELLO, ADA!", completed.GetResult<string>());
        Assert.Equal(1, _counter.Count("compose"));
        Assert.Equal(1, _counter.Count("shout"));
    }

    [Fact]
    public async Task ResumeWorkflow_CompletedWorkflow_AnswersTheRecordedResultAndRunsNothing()
    {
        var observer = new RecordingObserver();
        var coordinator = StartEngine(Registry(), observer);
        coordinator.Tell(new StartWorkflow("greet-2", "greeting", "\"Grace\""), TestActor);
        await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        var reportsOfTheRun = observer.Reports.Count;

        coordinator.Tell(new ResumeWorkflow("greet-2"), TestActor);

        var replayed = await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        Assert.Equal("HELLO, GRACE!", replayed.GetResult<string>());
        Assert.Equal(2, _counter.Counts.Values.Sum());
        // The workflow method did not run at all: not even a replay of its steps.
        Assert.Equal(reportsOfTheRun, observer.Reports.Count);
    }

    [Fact]
    public async Task StartWorkflow_ExistingId_ResumesTheRecordedWorkflowInsteadOfStartingAnother()
    {
        var coordinator = StartEngine(Registry());
        coordinator.Tell(new StartWorkflow("greet-3", "greeting", "\"Ada\""), TestActor);
        await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);

        coordinator.Tell(new StartWorkflow("greet-3", "greeting", "\"Someone else\""), TestActor);

        var again = await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        Assert.Equal("HELLO, ADA!", again.GetResult<string>());
        Assert.Equal(2, _counter.Counts.Values.Sum());
    }

    [Fact]
    public async Task StartWorkflow_SameIdTwiceAtOnce_RunsOneInstanceAndAnswersBoth()
    {
        var coordinator = StartEngine(Registry());
        var other = CreateTestProbe();

        coordinator.Tell(new StartWorkflow("greet-4", "greeting", "\"Ada\""), TestActor);
        coordinator.Tell(new StartWorkflow("greet-4", "greeting", "\"Ada\""), other);

        Assert.Equal("HELLO, ADA!", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Equal("HELLO, ADA!", (await other.ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
        Assert.Equal(1, _counter.Count("compose"));
        Assert.Equal(1, _counter.Count("shout"));
    }

    [Fact]
    public async Task StartWorkflow_UnknownType_IsRejectedAndRecordsNothing()
    {
        var coordinator = StartEngine(Registry());

        coordinator.Tell(new StartWorkflow("nope-1", "no-such-type"), TestActor);

        var rejected = await ExpectMsgAsync<WorkflowRejected>(RunTimeout);
        Assert.Contains("unknown workflow type 'no-such-type'", rejected.Reason);
        Assert.Contains("greeting", rejected.Reason);
        coordinator.Tell(new GetWorkflowStatus("nope-1"), TestActor);
        await ExpectMsgAsync(new WorkflowNotFound("nope-1"), RunTimeout);
    }

    [Fact]
    public async Task StartWorkflow_InputOfAnotherShape_IsRejected()
    {
        var coordinator = StartEngine(Registry());

        coordinator.Tell(new StartWorkflow("bad-input", "flaky", "{\"not\":\"an int\"}"), TestActor);

        var rejected = await ExpectMsgAsync<WorkflowRejected>(RunTimeout);
        Assert.Contains("Int32", rejected.Reason);
        Assert.Equal(0, _counter.Counts.Values.Sum());
    }

    [Theory]
    [InlineData("")]
    [InlineData(" padded ")]
    [InlineData("line\nbreak")]
    public async Task StartWorkflow_InvalidId_IsRejected(string id)
    {
        var coordinator = StartEngine(Registry());

        coordinator.Tell(new StartWorkflow(id, "greeting", "\"Ada\""), TestActor);

        var rejected = await ExpectMsgAsync<WorkflowRejected>(RunTimeout);
        Assert.Contains("workflow id", rejected.Reason);
    }

    [Fact]
    public async Task ResumeWorkflow_UnknownId_RepliesNotFound()
    {
        var coordinator = StartEngine(Registry());

        coordinator.Tell(new ResumeWorkflow("never-started"), TestActor);

        await ExpectMsgAsync(new WorkflowNotFound("never-started"), RunTimeout);
    }

    [Fact]
    public async Task StepAsync_BodyThrows_RecordsFailedAndResumeRunsOnlyThatStepAgain()
    {
        var coordinator = StartEngine(Registry());

        coordinator.Tell(new StartWorkflow("flaky-1", "flaky", "2"), TestActor);
        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("step 'call-service' (flaky-1:2) failed", failed.Error);
        Assert.Contains("service unavailable (attempt 1)", failed.Error);

        coordinator.Tell(new ResumeWorkflow("flaky-1"), TestActor);
        var completed = await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);

        Assert.Equal(2, completed.GetResult<int>());
        Assert.Equal(1, _counter.Count("prepare"));
        Assert.Equal(2, _counter.Count("call-service"));
        coordinator.Tell(new GetWorkflowStatus("flaky-1"), TestActor);
        var status = await ExpectMsgAsync<WorkflowStatus>(RunTimeout);
        Assert.Equal(WorkflowRunStatus.Completed, status.Status);
        var step = Assert.Single(status.Steps, s => s.StepId == "call-service");
        Assert.Equal((StepStatus.Completed, 2, "2"), (step.Status, step.Attempts, step.ResultJson));
        // A completed step has no error; the failed attempt keeps it.
        Assert.Null(step.Error);
        var failure = Assert.Single(step.Failures);
        Assert.Equal(1, failure.Attempt);
        Assert.Contains("service unavailable (attempt 1)", failure.Error);
    }

    [Fact]
    public async Task StepAsync_InALoop_GivesEachCallItsOwnKeyInCallOrder()
    {
        var coordinator = StartEngine(Registry());

        coordinator.Tell(new StartWorkflow("loop-1", "loop", "3"), TestActor);
        var completed = await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);

        Assert.Equal(["item-0", "item-1", "item-2"], completed.GetResult<List<string>>());
        coordinator.Tell(new GetWorkflowStatus("loop-1"), TestActor);
        var status = await ExpectMsgAsync<WorkflowStatus>(RunTimeout);
        Assert.Equal(
            [("loop-1:1", "process-item", "\"item-0\""), ("loop-1:2", "process-item", "\"item-1\""), ("loop-1:3", "process-item", "\"item-2\"")],
            status.Steps.Select(s => (s.Key, s.StepId, s.ResultJson)));
    }

    [Fact]
    public async Task GetStatusAsync_ReadsTheSameRecordsFromTheJournalAsTheActorHolds()
    {
        var coordinator = StartEngine(Registry());
        coordinator.Tell(new StartWorkflow("greet-5", "greeting", "\"Ada\""), TestActor);
        await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        coordinator.Tell(new GetWorkflowStatus("greet-5"), TestActor);
        var fromActor = await ExpectMsgAsync<WorkflowStatus>(RunTimeout);

        var fromJournal = await DurableWorkflows.GetStatusAsync(Sys, "greet-5");
        var all = await DurableWorkflows.ListAsync(Sys);

        Assert.NotNull(fromJournal);
        Assert.Equal(fromActor with { Steps = [] }, fromJournal with { Steps = [] });
        Assert.Equal(fromActor.Steps.Select(s => s with { Failures = [] }), fromJournal.Steps.Select(s => s with { Failures = [] }));
        Assert.Equal(WorkflowRunStatus.Completed, fromJournal.Status);
        Assert.Equal("\"HELLO, ADA!\"", fromJournal.ResultJson);
        Assert.Equal(["greet-5"], all.Select(s => s.WorkflowId));
        Assert.Null(await DurableWorkflows.GetStatusAsync(Sys, "unknown"));
    }

    [Fact]
    public async Task StartWorkflow_OneWorkflowFails_AnotherRunningAtTheSameTimeCompletes()
    {
        var coordinator = StartEngine(Registry());
        var other = CreateTestProbe();

        coordinator.Tell(new StartWorkflow("fails", "flaky", "99"), TestActor);
        coordinator.Tell(new StartWorkflow("succeeds", "greeting", "\"Ada\""), other);

        await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Equal("HELLO, ADA!", (await other.ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
    }
}
