using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Observability;

/// <summary>
/// The spans an application gets with <c>AddSource("Durable.Actors")</c>: a span per run under the caller's trace, a
/// span per executed step attempt with its real duration, parallel blocks, waits and child workflows; a later run is a
/// new span linked to the earlier ones, and no span stays open.
/// </summary>
public sealed class TracingSpec : TestKit, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempFolder _folder = new();
    private readonly TelemetryCollector _telemetry = new();

    private static string NewId(string name) => $"otel-{name}-{Guid.NewGuid():N}";

    private static string? Tag(Activity span, string name) => span.GetTagItem(name)?.ToString();

    private static bool IsStep(Activity span, string stepId) => span.OperationName == "durable.step" && Tag(span, "durable.step.id") == stepId;

    private static void AssertWithin(Activity outer, Activity inner)
    {
        Assert.True(inner.StartTimeUtc >= outer.StartTimeUtc, $"{inner.DisplayName} starts before {outer.DisplayName}");
        Assert.True(inner.StartTimeUtc + inner.Duration <= outer.StartTimeUtc + outer.Duration, $"{inner.DisplayName} ends after {outer.DisplayName}");
    }

    [Fact]
    public async Task Run_OfTheOnboardingSample_IsASpanUnderTheCallerWithItsStepsAndTheBranchStepsUnderTheParallelSpan()
    {
        var registry = SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog(_folder.File("effects.log")));
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, registry);
        var id = NewId("onboarding");
        ActivityContext caller;
        try
        {
            using (var request = TelemetryCollector.Caller.StartActivity("POST /hires"))
            {
                caller = request!.Context;
                var input = JsonSerializer.Serialize(NewHire.Default, registry.JsonOptions);
                await coordinator.Ask<WorkflowCompleted>(new StartWorkflow(id, OnboardingWorkflow.TypeName, input), Timeout);
            }
        }
        finally
        {
            await system.Terminate();
        }

        var spans = _telemetry.SpansOf(id);
        var run = Assert.Single(spans, s => s.OperationName == "durable.workflow.run");
        Assert.Equal(caller.TraceId, run.TraceId);
        Assert.Equal(caller.SpanId, run.ParentSpanId);
        Assert.Equal("run onboarding", run.DisplayName);
        Assert.Equal("onboarding", Tag(run, "durable.workflow.type"));
        Assert.Equal("completed", Tag(run, "durable.run.outcome"));
        Assert.Equal("0", Tag(run, "durable.run.replayed_steps"));

        var parallel = Assert.Single(spans, s => s.OperationName == "durable.parallel");
        Assert.Equal(run.SpanId, parallel.ParentSpanId);
        Assert.Equal("2", Tag(parallel, "durable.parallel.branches"));

        var steps = spans.Where(s => s.OperationName == "durable.step").ToDictionary(s => Tag(s, "durable.step.id")!);
        Assert.Equal(["create-employee", "provision-access", "provision-laptop", "send-welcome-email"], steps.Keys.Order());
        Assert.Equal(run.SpanId, steps["create-employee"].ParentSpanId);
        Assert.Equal(run.SpanId, steps["send-welcome-email"].ParentSpanId);
        Assert.Equal(parallel.SpanId, steps["provision-laptop"].ParentSpanId);
        Assert.Equal(parallel.SpanId, steps["provision-access"].ParentSpanId);
        Assert.All(steps.Values, step =>
        {
            Assert.Equal(run.TraceId, step.TraceId);
            Assert.Equal("executed", Tag(step, "durable.step.outcome"));
            Assert.Equal("1", Tag(step, "durable.step.attempt"));
            Assert.StartsWith(id + ":", Tag(step, "durable.step.key"), StringComparison.Ordinal);
            Assert.Equal(ActivityStatusCode.Unset, step.Status);
            AssertWithin(run, step);
        });
        AssertWithin(parallel, steps["provision-laptop"]);
        AssertWithin(parallel, steps["provision-access"]);
        // The steps follow each other as the code awaits them, and the branches' steps last their simulated call.
        Assert.True(steps["create-employee"].StartTimeUtc + steps["create-employee"].Duration <= parallel.StartTimeUtc);
        Assert.True(parallel.StartTimeUtc + parallel.Duration <= steps["send-welcome-email"].StartTimeUtc);
        Assert.True(steps["provision-laptop"].Duration >= OnboardingWorkflow.ProvisioningLatency - TimeSpan.FromMilliseconds(10));
        Assert.True(steps["provision-access"].Duration >= OnboardingWorkflow.ProvisioningLatency - TimeSpan.FromMilliseconds(10));
    }

    [Fact]
    public async Task StartAsync_OfTheTypedClient_MakesTheCallerTheParentOfTheRunAndTheChildsRunsChildrenOfTheParentsStartStep()
    {
        // The child ends once its parent waits for it, so that the parent's wait is a live one.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new WorkflowRegistry()
            .Add<int, int>("otel-child", async (ctx, n) => await ctx.StepAsync("double", async _ =>
            {
                await gate.Task;
                return n * 2;
            }))
            .Add<int, int>("otel-parent", async (ctx, n) =>
            {
                var doubled = await ctx.RunChildAsync<int, int>("otel-child", n, childId: ctx.WorkflowId + "-child");
                return await ctx.StepAsync("add-one", () => doubled + 1);
            });
        var (system, _) = TestSupport.Engine.Start(_folder.Database, registry);
        var id = NewId("parent");
        ActivityContext caller;
        try
        {
            using var request = TelemetryCollector.Caller.StartActivity("POST /jobs");
            caller = request!.Context;
            var handle = await DurableWorkflows.Client(system).StartAsync<int, int>("otel-parent", id, 20);
            await AwaitConditionAsync(async () => (await DurableWorkflows.GetStatusAsync(system, id))?.WaitingFor?.Contains("child", StringComparison.Ordinal) == true, Timeout, interval: TestSupport.Polling.Interval);
            gate.SetResult();
            Assert.Equal(41, await handle.GetResultAsync());
        }
        finally
        {
            await system.Terminate();
        }

        var parent = _telemetry.SpansOf(id);
        var parentRun = Assert.Single(parent, s => s.OperationName == "durable.workflow.run");
        Assert.Equal(caller.SpanId, parentRun.ParentSpanId);
        var startChild = Assert.Single(parent, s => IsStep(s, $"start-child:{id}-child"));
        var childWait = Assert.Single(parent, s => s.OperationName == "durable.child.wait");
        Assert.Equal(parentRun.SpanId, childWait.ParentSpanId);
        Assert.Equal(id + "-child", Tag(childWait, "durable.child.id"));
        Assert.Equal("received", Tag(childWait, "durable.wait.outcome"));

        var child = _telemetry.SpansOf(id + "-child");
        var childRun = Assert.Single(child, s => s.OperationName == "durable.workflow.run");
        Assert.Equal(caller.TraceId, childRun.TraceId);
        Assert.Equal(startChild.SpanId, childRun.ParentSpanId);
        var doubled = Assert.Single(child, s => IsStep(s, "double"));
        Assert.Equal(childRun.SpanId, doubled.ParentSpanId);
        // The child runs from its start on; the parent's wait ends once the child's run has ended.
        Assert.True(childRun.StartTimeUtc + childRun.Duration <= childWait.StartTimeUtc + childWait.Duration);
        Assert.True(doubled.StartTimeUtc + doubled.Duration >= childWait.StartTimeUtc);
    }

    [Fact]
    public async Task Resume_InASecondHostAfterTheFirstStopped_IsANewRunSpanLinkedToTheFirstWhichEnded()
    {
        var hang = true;
        var counter = new EffectRecorder();
        WorkflowRegistry Registry() => new WorkflowRegistry().Add<int, int>("otel-two-steps", async (ctx, n) =>
        {
            var a = await ctx.StepAsync("first", () => { counter.Record("first"); return n; });
            if (Volatile.Read(ref hang))
#pragma warning disable DURABLE0002 // The first run hangs here until its host stops: a wait the engine must not know of.
                await Task.Delay(System.Threading.Timeout.Infinite, ctx.CancellationToken);
#pragma warning restore DURABLE0002
            return a + await ctx.StepAsync("second", () => { counter.Record("second"); return 10; });
        });
        var id = NewId("resume");

        var (first, coordinator) = TestSupport.Engine.Start(_folder.Database, Registry());
        coordinator.Tell(new StartWorkflow(id, "otel-two-steps", "1"), ActorRefs.NoSender);
        // Its completion durable (its body ran a moment before): the stop leaves the workflow between its steps.
        await AwaitConditionAsync(async () => await TestSupport.Engine.StepCompletedAsync(first, id, "first"), Timeout, interval: TestSupport.Polling.Interval);
        await first.Terminate();
        Volatile.Write(ref hang, false);

        // The second host resumes the workflow by itself (recovery on start).
        var (second, _) = TestSupport.Engine.Start(_folder.Database, Registry());
        try
        {
            await AwaitConditionAsync(() => Task.FromResult(
                _telemetry.SpansOf(id).Count(s => s.OperationName == "durable.workflow.run") == 2), Timeout, interval: TestSupport.Polling.Interval);
        }
        finally
        {
            await second.Terminate();
        }

        var spans = _telemetry.SpansOf(id);
        var runs = spans.Where(s => s.OperationName == "durable.workflow.run").OrderBy(s => s.StartTimeUtc).ToList();
        var (stopped, resumed) = (runs[0], runs[1]);
        Assert.Equal("stopped", Tag(stopped, "durable.run.outcome"));
        Assert.True(stopped.Duration > TimeSpan.Zero);
        Assert.Equal("False", Tag(stopped, "durable.run.resumed"));
        Assert.Equal("completed", Tag(resumed, "durable.run.outcome"));
        Assert.Equal("True", Tag(resumed, "durable.run.resumed"));
        Assert.Equal("1", Tag(resumed, "durable.run.replayed_steps"));
        // A trace of its own (the first run's may never have been exported, after a real crash), linked to the first.
        Assert.NotEqual(stopped.TraceId, resumed.TraceId);
        Assert.Equal(default, resumed.ParentSpanId);
        var link = Assert.Single(resumed.Links);
        Assert.Equal(stopped.TraceId, link.Context.TraceId);
        Assert.Equal(stopped.SpanId, link.Context.SpanId);

        // Each step has one span, in the run that executed it: the replay of "first" made none.
        Assert.Equal(stopped.SpanId, Assert.Single(spans, s => IsStep(s, "first")).ParentSpanId);
        Assert.Equal(resumed.SpanId, Assert.Single(spans, s => IsStep(s, "second")).ParentSpanId);
        Assert.Equal(1, counter.Count("first"));
    }

    [Fact]
    public async Task Sleep_LongerThanPassivateAfter_EndsTheRunSpanWhenPutAwayAndTheWakeUpIsANewLinkedRun()
    {
        var registry = new WorkflowRegistry().Add<int, int>("otel-sleeper", async (ctx, n) =>
        {
            var a = await ctx.StepAsync("before", () => n);
            await ctx.SleepAsync(TimeSpan.FromSeconds(2));
            return await ctx.StepAsync("after", () => a + 1);
        });
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, registry, extraHocon: "durable-actors.passivate-after = 1s");
        var id = NewId("sleeper");
        try
        {
            var waiting = await coordinator.Ask<WorkflowWaiting>(new StartWorkflow(id, "otel-sleeper", "1"), Timeout);
            Assert.Equal(id, waiting.WorkflowId);
            await AwaitConditionAsync(() => Task.FromResult(
                _telemetry.SpansOf(id).Any(s => s.OperationName == "durable.workflow.run" && Tag(s, "durable.run.outcome") == "completed")), Timeout, interval: TestSupport.Polling.Interval);
        }
        finally
        {
            await system.Terminate();
        }

        var spans = _telemetry.SpansOf(id);
        var runs = spans.Where(s => s.OperationName == "durable.workflow.run").OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(2, runs.Count);
        Assert.Equal("put_away", Tag(runs[0], "durable.run.outcome"));
        Assert.Equal(runs[0].SpanId, Assert.Single(runs[1].Links).Context.SpanId);
        var sleeps = spans.Where(s => s.OperationName == "durable.sleep").OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(runs[0].SpanId, sleeps[0].ParentSpanId);
        Assert.Equal("put_away", Tag(sleeps[0], "durable.wait.outcome"));
        AssertWithin(runs[0], sleeps[0]);
        // The woken run waits out what is left of the timer, if anything, in a sleep span of its own.
        Assert.All(sleeps.Skip(1), s => Assert.Equal("fired", Tag(s, "durable.wait.outcome")));
        Assert.Equal(runs[0].SpanId, Assert.Single(spans, s => IsStep(s, "before")).ParentSpanId);
        Assert.Equal(runs[1].SpanId, Assert.Single(spans, s => IsStep(s, "after")).ParentSpanId);
    }

    [Fact]
    public async Task WaitForSignal_InABranch_IsASpanUnderTheParallelBlockUntilTheSignalIsTaken()
    {
        var registry = new WorkflowRegistry().Add<int, string>("otel-approval", async (ctx, n) =>
        {
            var (approval, prepared) = await ctx.ParallelAsync(
                async branch => (await branch.WaitForSignalAsync<string>("approve")).Payload!,
                branch => branch.StepAsync("prepare", () => n));
            return $"{approval}:{prepared}";
        });
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, registry);
        var id = NewId("approval");
        try
        {
            coordinator.Tell(new StartWorkflow(id, "otel-approval", "7"), ActorRefs.NoSender);
            await AwaitConditionAsync(async () => (await DurableWorkflows.GetStatusAsync(system, id))?.WaitingFor?.Contains("approve", StringComparison.Ordinal) == true, Timeout, interval: TestSupport.Polling.Interval);
            await coordinator.Ask<SignalDelivered>(new SignalWorkflow(id, "approve", "\"yes\""), Timeout);
            var done = await coordinator.Ask<WorkflowCompleted>(new StartWorkflow(id, "otel-approval", "7"), Timeout);
            Assert.Equal("yes:7", done.GetResult<string>());
        }
        finally
        {
            await system.Terminate();
        }

        var spans = _telemetry.SpansOf(id);
        var parallel = Assert.Single(spans, s => s.OperationName == "durable.parallel");
        var wait = Assert.Single(spans, s => s.OperationName == "durable.signal.wait");
        Assert.Equal("wait signal approve", wait.DisplayName);
        Assert.Equal(parallel.SpanId, wait.ParentSpanId);
        Assert.Equal("approve", Tag(wait, "durable.signal.name"));
        Assert.Equal("received", Tag(wait, "durable.wait.outcome"));
        AssertWithin(parallel, wait);
        Assert.Equal(parallel.SpanId, Assert.Single(spans, s => IsStep(s, "prepare")).ParentSpanId);
    }

    [Fact]
    public async Task Step_ThatFailsThenSucceeds_HasASpanPerAttemptWithTheErrorOnTheFailedOne()
    {
        var attempts = 0;
        var registry = new WorkflowRegistry().Add<int, int>("otel-flaky", async (ctx, n) =>
            await ctx.StepAsync("flaky", () => Interlocked.Increment(ref attempts) == 1 ? throw new InvalidOperationException("card declined") : n,
                new RetryPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.FromMilliseconds(1) }));
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, registry);
        var id = NewId("flaky");
        try
        {
            await coordinator.Ask<WorkflowCompleted>(new StartWorkflow(id, "otel-flaky", "5"), Timeout);
        }
        finally
        {
            await system.Terminate();
        }

        var steps = _telemetry.SpansOf(id).Where(s => IsStep(s, "flaky")).OrderBy(s => Tag(s, "durable.step.attempt")).ToList();
        Assert.Equal(2, steps.Count);
        Assert.Equal("failed", Tag(steps[0], "durable.step.outcome"));
        Assert.Equal(ActivityStatusCode.Error, steps[0].Status);
        Assert.Equal("card declined", steps[0].StatusDescription);
        Assert.Equal(typeof(InvalidOperationException).FullName, Tag(steps[0], "error.type"));
        Assert.Contains(steps[0].Events, e => e.Name == "exception");
        Assert.Equal("executed", Tag(steps[1], "durable.step.outcome"));
        Assert.Equal("2", Tag(steps[1], "durable.step.attempt"));
    }

    public new void Dispose()
    {
        _telemetry.Dispose();
        _folder.Dispose();
        base.Dispose();
    }
}
