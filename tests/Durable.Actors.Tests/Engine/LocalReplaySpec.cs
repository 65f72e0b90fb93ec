using Akka.Actor;
using System.Collections.Concurrent;
using Durable.Actors.Runtime;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// A run replays what its journal recorded without asking the workflow's actor: recorded steps, timers, signal waits
/// and patches return from the run's copy of the journal, and only the first call not recorded (the frontier) reaches
/// the actor. A value the code records (the workflow clock, a new id, a random number) costs no message either: it is
/// written with the next record.
/// </summary>
public sealed class LocalReplaySpec(ITestOutputHelper output) : EngineSpec(output)
{
    private const int Steps = 1000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly EffectRecorder _counter = new();
    private readonly ConcurrentQueue<string> _asked = new();
    private volatile bool _counting;
    private volatile bool _lastFails = true;

    private WorkflowRegistry Long() => new WorkflowRegistry().Add<int, string>("long", async (ctx, count) =>
    {
        var total = 0;
        for (var i = 0; i < count; i++)
        {
            var item = i;
            total += await ctx.StepAsync("item", () => { _counter.Record("item"); return item; });
        }
        await ctx.SleepAsync(TimeSpan.Zero);
        var patched = await ctx.PatchedAsync("v2");
        var signal = await ctx.WaitForSignalAsync<string>("go", TimeSpan.Zero);
        return await ctx.StepAsync("last", () =>
        {
            _counter.Record("last");
            if (_lastFails)
                throw new InvalidOperationException("not yet");
            return $"{total} {patched} {signal.Received}";
        }, RetryPolicy.None);
    });

    /// <summary>Notes the run's calls that reach the actor (a step, a timer, a signal wait, a patch) once counting began.</summary>
    private RuntimeHooks CountCalls() => new()
    {
        BeforeCommand = message =>
        {
            if (!_counting)
                return;
            switch (message)
            {
                case BeginStep step:
                    _asked.Enqueue($"step {step.StepId}");
                    break;
                case BeginTimer or BeginSignalWait or BeginPatch or BeginParallel:
                    _asked.Enqueue(message.GetType().Name);
                    break;
            }
        },
    };

    [Fact]
    public async Task Resume_OfAThousandRecordedSteps_SendsTheActorOnlyTheFrontier()
    {
        var coordinator = DurableWorkflows.Start(Sys, Long(), null, TimeProvider.System, CountCalls());
        var failed = await coordinator.Ask<WorkflowFailed>(new StartWorkflow("long-1", "long", $"{Steps}"), Timeout);
        Assert.Contains("not yet", failed.Error, StringComparison.Ordinal);

        _lastFails = false;
        _counting = true;
        var completed = await coordinator.Ask<WorkflowCompleted>(new ResumeWorkflow("long-1"), Timeout);

        Assert.Equal($"{Steps * (Steps - 1) / 2} True False", completed.GetResult<string>());
        Assert.Equal(["step last"], _asked);
        Assert.Equal((Steps, 2), (_counter.Count("item"), _counter.Count("last")));
    }

    [Fact]
    public async Task NowNewGuidAndRandom_SendNoMessage_AndAreRecordedWithTheNextStep()
    {
        var registry = new WorkflowRegistry().Add<string, string>("values", async (ctx, _) =>
        {
            var now = await ctx.NowAsync();
            var id = await ctx.NewGuidAsync();
            var dice = await ctx.RandomAsync(1, 7);
            return await ctx.StepAsync("use", () => $"{now:O} {id} {dice}");
        });
        var coordinator = DurableWorkflows.Start(Sys, registry, null, TimeProvider.System, CountCalls());
        _counting = true;

        var result = (await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("values-1", "values"), Timeout)).GetResult<string>()!;

        Assert.Equal(["step use"], _asked);
        var status = await coordinator.Ask<WorkflowStatus>(new GetWorkflowStatus("values-1"), Timeout);
        Assert.Equal(["durable.now", "durable.new-guid", "durable.random", "use"], status.Steps.Select(s => s.StepId));
        Assert.All(status.Steps, s => Assert.Equal((StepStatus.Completed, 1), (s.Status, s.Attempts)));
        // The values the code got are the ones recorded.
        var now = System.Text.Json.JsonSerializer.Deserialize<DateTimeOffset>(status.Steps[0].ResultJson!);
        var id = System.Text.Json.JsonSerializer.Deserialize<Guid>(status.Steps[1].ResultJson!);
        var dice = System.Text.Json.JsonSerializer.Deserialize<int>(status.Steps[2].ResultJson!);
        Assert.Equal($"{now:O} {id} {dice}", result);
    }
}
