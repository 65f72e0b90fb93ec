using Akka.Actor;
using System.Collections.Concurrent;
using System.Globalization;
using Durable.Actors.Inspection;
using Durable.Actors.Runtime;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Client;

/// <summary>The typed client: start returns once durable, the handle awaits the typed result, signals, cancels, reads the status.</summary>
public sealed class WorkflowClientSpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.passivate-after = 500ms")
{
    public sealed record Expense(decimal Amount, string By);

    public sealed record Decision(bool Approved, string By);

    private readonly EffectRecorder _counter = new();
    private readonly VirtualClock _clock = new(DateTimeOffset.Parse("2026-11-29T12:00:00Z", CultureInfo.InvariantCulture));
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkflowClient Client() => DurableWorkflows.Client(Sys);

    private WorkflowRegistry Registry() => new WorkflowRegistry()
        .Add<Expense, string>("approval", async (ctx, expense) =>
        {
            await ctx.StepAsync("submit", () => _counter.Record("submit"));
            var decision = await ctx.WaitForSignalAsync<Decision>("decision", TimeSpan.FromDays(3));
            return decision.Received && decision.Payload!.Approved ? $"paid {expense.Amount.ToString(CultureInfo.InvariantCulture)}" : "not paid";
        })
        .Add<int, int>("gated", async (ctx, n) => await ctx.StepAsync("wait-for-gate", async _ =>
        {
            _counter.Record("gated");
            await _gate.Task;
            return n * 2;
        }))
        .Add<int, int>("failing", async (ctx, _) => await ctx.StepAsync<int>("boom", () => throw new InvalidOperationException("card declined"), RetryPolicy.None));

    [Fact]
    public async Task StartAsync_ReturnsOnceTheStartIsDurable_TheHandleAwaitsTheTypedResult()
    {
        StartEngine(Registry(), clock: _clock);

        var handle = await Client().StartAsync<int, int>("gated", "g-1", 21);

        // The run goes on without the caller: the step is still running.
        Assert.Equal(WorkflowRunStatus.Running, (await handle.GetStatusAsync()).Status);
        var result = handle.GetResultAsync();
        _gate.SetResult();
        Assert.Equal(42, await result.WaitAsync(RunTimeout));
        // Asking again reads the end; nothing runs again.
        Assert.Equal(42, await Client().GetHandle<int>("g-1").GetResultAsync().WaitAsync(RunTimeout));
        Assert.Equal(1, _counter.Count("gated"));
    }

    [Fact]
    public async Task WorkflowWaitsForASignal_ResultAwaitedWhileItIsPutAway_SignalFinishesIt()
    {
        StartEngine(Registry(), clock: _clock);
        var handle = await Client().StartAsync<Expense, string>("approval", "exp-1", new Expense(120.5m, "ada"));
        var result = handle.GetResultAsync();
        await AwaitAssertAsync(async () => Assert.StartsWith("waiting for signal 'decision'", (await handle.GetStatusAsync()).WaitingFor), RunTimeout);

        await handle.SignalAsync("decision", new Decision(true, "grace"));

        Assert.Equal("paid 120.5", await result.WaitAsync(RunTimeout));
        Assert.Equal(1, _counter.Count("submit"));
    }

    [Fact]
    public async Task GetDetailAsync_ShowsEachDurableWait_WhileItWaits_AndHowItEnded()
    {
        StartEngine(Registry(), clock: _clock);
        var t0 = _clock.GetUtcNow();
        var paid = await Client().StartAsync<Expense, string>("approval", "exp-w1", new Expense(10m, "ada"));
        var expired = await Client().StartAsync<Expense, string>("approval", "exp-w2", new Expense(20m, "ada"));
        foreach (var handle in new[] { paid, expired })
            await AwaitAssertAsync(async () => Assert.NotNull((await handle.GetStatusAsync()).WaitingFor), RunTimeout);

        Assert.Equal(
            new WaitRecord("exp-w1:2", WaitKind.Signal, "decision", WaitStatus.Waiting, t0, t0.AddDays(3), null, null),
            Assert.Single((await DurableWorkflows.GetDetailAsync(Sys, "exp-w1"))!.Waits));

        await paid.SignalAsync("decision", new Decision(true, "grace"));
        Assert.Equal("paid 10", await paid.GetResultAsync().WaitAsync(RunTimeout));
        _clock.Advance(TimeSpan.FromDays(3));
        Assert.Equal("not paid", await expired.GetResultAsync().WaitAsync(RunTimeout));

        var received = Assert.Single((await DurableWorkflows.GetDetailAsync(Sys, "exp-w1"))!.Waits);
        Assert.Equal((WaitStatus.Received, (DateTimeOffset?)t0), (received.Status, received.EndedAt));
        Assert.Contains("grace", received.PayloadJson, StringComparison.Ordinal);
        Assert.Equal(
            new WaitRecord("exp-w2:2", WaitKind.Signal, "decision", WaitStatus.TimedOut, t0, t0.AddDays(3), t0.AddDays(3), null),
            Assert.Single((await DurableWorkflows.GetDetailAsync(Sys, "exp-w2"))!.Waits));
        Assert.Null(await DurableWorkflows.GetDetailAsync(Sys, "exp-none"));
    }

    [Fact]
    public async Task PauseAsync_HoldsTheWorkflowUntilUnpauseAsync_AndTheResultArrivesThen()
    {
        StartEngine(Registry(), clock: _clock);
        var handle = await Client().StartAsync<Expense, string>("approval", "exp-p", new Expense(120.5m, "ada"));
        var result = handle.GetResultAsync();

        await handle.PauseAsync("audit");
        await handle.SignalAsync("decision", new Decision(true, "grace"));

        var status = await handle.GetStatusAsync();
        Assert.Equal(WorkflowRunStatus.Paused, status.Status);
        Assert.Equal("paused: audit (unpause it to go on)", status.WaitingFor);
        // The waiting handle reads the workflow's index row every second: paused is not ended, so it reads it again.
        var polled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reads = 0;
        Hooks.WorkflowReads = (what, id) =>
        {
            if (what == "index" && id == "exp-p" && Interlocked.Increment(ref reads) == 2)
                polled.TrySetResult();
        };
        await polled.Task.WaitAsync(RunTimeout);
        Hooks.WorkflowReads = null;
        Assert.False(result.IsCompleted);
        await handle.UnpauseAsync();
        Assert.Equal("paid 120.5", await result.WaitAsync(RunTimeout));
        var ended = await Assert.ThrowsAsync<WorkflowRejectedException>(() => handle.PauseAsync());
        Assert.Equal("Workflow 'exp-p' is not running (COMPLETED); it was not paused", ended.Message);
        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => Client().GetHandle<string>("nobody").UnpauseAsync());
    }

    [Fact]
    public async Task FailedCancelledUnknownAndRejected_ArriveAsTypedExceptions()
    {
        StartEngine(Registry(), clock: _clock);

        var failing = await Client().StartAsync<int, int>("failing", "f-1", 1);
        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => failing.GetResultAsync().WaitAsync(RunTimeout));
        Assert.Contains("card declined", failed.Error);

        var waiting = await Client().StartAsync<Expense, string>("approval", "exp-2", new Expense(5m, "ada"));
        await waiting.CancelAsync("duplicate");
        Assert.Equal("duplicate", (await Assert.ThrowsAsync<WorkflowCancelledException>(() => waiting.GetResultAsync().WaitAsync(RunTimeout))).Reason);
        var ended = await Assert.ThrowsAsync<WorkflowRejectedException>(() => waiting.CancelAsync());
        Assert.Equal("Workflow 'exp-2' has already ended (CANCELLED); nothing was changed", ended.Message);

        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => Client().GetHandle<int>("nobody").GetResultAsync().WaitAsync(RunTimeout));
        var rejected = await Assert.ThrowsAsync<WorkflowRejectedException>(() => Client().StartAsync<int, int>("no-such-type", "x-1", 1));
        Assert.Contains("unknown workflow type 'no-such-type'", rejected.Reason);
        Assert.StartsWith("Workflow 'x-1': unknown workflow type 'no-such-type'", rejected.Message);
    }

    [Fact]
    public async Task WorkflowRunByAnotherHost_TheHandleSeesItsEndInTheJournal()
    {
        StartEngine(Registry(), clock: _clock);
        var (other, otherCoordinator) = TestSupport.Engine.Start(Folder.Database, Registry(), clock: _clock,
            extraHocon: "durable-actors.recover-on-start = off");
        try
        {
            // The other host (another process, in production) starts and finishes the workflow.
            Assert.IsType<WorkflowWaiting>(await otherCoordinator.Ask<object>(
                new StartWorkflow("exp-3", "approval", """{"amount": 9, "by": "ada"}"""), RunTimeout));
            var result = Client().GetHandle<string>("exp-3").GetResultAsync();
            otherCoordinator.Tell(new SignalWorkflow("exp-3", "decision", """{"approved": true, "by": "grace"}"""), ActorRefs.NoSender);

            Assert.Equal("paid 9", await result.WaitAsync(RunTimeout));
        }
        finally
        {
            await other.Terminate();
        }
    }

    [Fact]
    public async Task GetResultAsync_WaitsCancelledByTheirCallers_LeaveNoWatcherInTheCoordinator()
    {
        var coordinator = StartEngine(Registry(), clock: _clock);
        var handle = await Client().StartAsync<int, int>("gated", "g-2", 21);
        using var stop = new CancellationTokenSource();
        var waits = Enumerable.Range(0, 200).Select(_ => handle.GetResultAsync(stop.Token)).ToList();
        await AwaitAssertAsync(async () => Assert.Equal(200, await coordinator.Ask<int>(new CountWatchers("g-2"), RunTimeout)), RunTimeout);

        await stop.CancelAsync();

        foreach (var wait in waits)
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(RunTimeout));
        await AwaitAssertAsync(async () => Assert.Equal(0, await coordinator.Ask<int>(new CountWatchers("g-2"), RunTimeout)), RunTimeout);
        // A caller still waiting gets the end.
        var result = handle.GetResultAsync();
        await AwaitAssertAsync(async () => Assert.Equal(1, await coordinator.Ask<int>(new CountWatchers("g-2"), RunTimeout)), RunTimeout);
        _gate.SetResult();
        Assert.Equal(42, await result.WaitAsync(RunTimeout));
    }

    [Fact]
    public async Task WorkflowRunByAnotherHost_WhileItRunsTheHandleReadsItsIndexRowNeverItsEvents()
    {
        StartEngine(Registry(), clock: _clock);
        var (other, otherCoordinator) = TestSupport.Engine.Start(Folder.Database, Registry(), clock: _clock,
            extraHocon: "durable-actors.recover-on-start = off");
        var reads = new ConcurrentQueue<string>();
        Hooks.WorkflowReads = (what, id) =>
        {
            if (id == "exp-4")
                reads.Enqueue(what);
        };
        try
        {
            Assert.IsType<WorkflowWaiting>(await otherCoordinator.Ask<object>(
                new StartWorkflow("exp-4", "approval", """{"amount": 9, "by": "ada"}"""), RunTimeout));
            var result = Client().GetHandle<string>("exp-4").GetResultAsync();

            // The handle looks at the workflow every second while another host has it: three looks, none at its events.
            await AwaitConditionAsync(() => Task.FromResult(reads.Count >= 3), RunTimeout, interval: TestSupport.Polling.Interval);
            Assert.All(reads.Take(3), what => Assert.Equal("index", what));

            otherCoordinator.Tell(new SignalWorkflow("exp-4", "decision", """{"approved": true, "by": "grace"}"""), ActorRefs.NoSender);
            Assert.Equal("paid 9", await result.WaitAsync(RunTimeout));
            // Its events are read once, for the result, after its row said it ended.
            Assert.Equal(1, reads.Count(what => what == "journal"));
        }
        finally
        {
            Hooks.WorkflowReads = null;
            await other.Terminate();
        }
    }
}
