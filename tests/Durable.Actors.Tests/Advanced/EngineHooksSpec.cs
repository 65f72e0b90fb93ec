using Akka.Actor;
using Durable.Actors.Advanced;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Advanced;

/// <summary>
/// The seam a test harness builds on (the test kit does): the clock, the step bodies' hooks and the journal's write
/// gate given with the ActorSystem's setup, the writes described and folded, and the engine asked whether it is quiet.
/// </summary>
public sealed class EngineHooksSpec : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset T0 = new(2030, 5, 1, 8, 0, 0, TimeSpan.Zero);
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task HooksInTheSetup_SeeEveryStepBodyAndCommittedWrite_AndTheWritesFoldToTheWorkflowsStatus()
    {
        var clock = new VirtualClock(T0);
        var gate = new JournalGate();
        var bodies = new List<string>();
        var hooks = new EngineHooks
        {
            Clock = clock,
            StepBodyStarting = report => { lock (bodies) bodies.Add($"{report.StepId} starting"); },
            StepBodyEnded = (report, returned) => { lock (bodies) bodies.Add($"{report.StepId} {(returned ? "returned" : "threw")}"); },
            WriteGate = gate,
        };
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new WorkflowRegistry().Add<string, string>("greet", async (ctx, name) =>
        {
            var hello = await ctx.StepAsync("hello", async ct => { await release.Task.WaitAsync(ct); return $"hello {name}"; });
            var mood = (await ctx.WaitForSignalAsync<string>("mood")).Payload;
            return await ctx.StepAsync("reply", () => $"{hello}, you are {mood}");
        });
        using var system = ActorSystem.Create("hooks", DurableWorkflows.CreateSetup(TestSupport.Engine.Config(_folder.Database)).And(hooks));
        try
        {
            DurableWorkflows.Start(system, registry);
            var client = DurableWorkflows.Client(system);
            var handle = await client.StartAsync<string, string>("greet", "g-1", "ada");

            // A step body runs: the engine is not quiet.
            await Polling.UntilAsync(() => { lock (bodies) return bodies.Count == 1; }, "the first step body to start", Timeout);
            Assert.False(await EngineActivity.IsQuietAsync(system, Timeout));
            release.SetResult();
            // The run awaits a signal only: quiet (asked twice, as a message between two actors is not seen).
            await Polling.UntilAsync(async () => await EngineActivity.IsQuietAsync(system, Timeout) && await EngineActivity.IsQuietAsync(system, Timeout), "the engine to be quiet", Timeout);

            await handle.SignalAsync("mood", "curious");
            Assert.Equal("hello ada, you are curious", await handle.GetResultAsync().WaitAsync(Timeout));

            lock (bodies)
                Assert.Equal(["hello starting", "hello returned", "reply starting", "reply returned"], bodies);
            var changes = gate.Committed.SelectMany(w => w.Changes).ToList();
            Assert.All(changes, c => Assert.Equal("g-1", c.WorkflowId));
            Assert.Equal(
                [
                    (JournalChangeKind.WorkflowStarted, null, null),
                    (JournalChangeKind.StepStarted, "g-1:1", "hello"),
                    (JournalChangeKind.StepCompleted, "g-1:1", null),
                    (JournalChangeKind.SignalWaitStarted, "g-1:2", "mood"),
                    (JournalChangeKind.SignalReceived, null, "mood"),
                    (JournalChangeKind.SignalWaitEnded, "g-1:2", null),
                    (JournalChangeKind.StepStarted, "g-1:3", "reply"),
                    (JournalChangeKind.StepCompleted, "g-1:3", null),
                    (JournalChangeKind.WorkflowCompleted, null, null),
                ],
                changes.Select(c => (c.Kind, c.Key, c.Name)));
            Assert.Equal("step g-1:1 'hello' started (IN_PROGRESS, attempt 1)", changes[1].ToString());

            // The committed writes alone give what the journal says, on the harness's clock.
            var folded = Assert.Single(JournalWrite.Fold(gate.Committed));
            var read = await DurableWorkflows.GetStatusAsync(system, "g-1");
            Assert.Equal(
                (read!.Status, read.ResultJson, read.StartedAt, read.Steps.Count),
                (folded.Status, folded.ResultJson, folded.StartedAt, folded.Steps.Count));
            Assert.Equal((WorkflowRunStatus.Completed, T0), (folded.Status, folded.StartedAt));
        }
        finally
        {
            release.TrySetResult();
            await system.Terminate().WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task AWriteTheGateRefuses_ReachesNoDatabase_AndTheStepWhoseBodyReturnedDoesNotRunAgain()
    {
        var gate = new JournalGate { RefuseOnce = change => change.Kind == JournalChangeKind.StepCompleted };
        var runs = 0;
        var registry = new WorkflowRegistry().Add<string, string>("one-step", async (ctx, name) =>
            await ctx.StepAsync("only", () => { Interlocked.Increment(ref runs); return name.ToUpperInvariant(); }));
        using var system = ActorSystem.Create("hooks", DurableWorkflows.CreateSetup(TestSupport.Engine.Config(_folder.Database)).And(new EngineHooks { WriteGate = gate }));
        try
        {
            DurableWorkflows.Start(system, registry);
            var handle = await DurableWorkflows.Client(system).StartAsync<string, string>("one-step", "r-1", "ada");

            // The write of the step's completion failed once (as a journal failure would): the next actor writes it.
            Assert.Equal("ADA", await handle.GetResultAsync().WaitAsync(Timeout));
            Assert.Equal(1, gate.Refused);
            Assert.Equal(1, Volatile.Read(ref runs));
            Assert.Single(gate.Committed.SelectMany(w => w.Changes), c => c.Kind == JournalChangeKind.StepCompleted);
        }
        finally
        {
            await system.Terminate().WaitAsync(Timeout);
        }
    }

    public void Dispose() => _folder.Dispose();
}
