using Akka.Actor;
using System.Collections.Concurrent;
using Durable.Actors.Runtime;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// A run replays what its journal recorded without asking the workflow's actor: recorded steps, timers, signal waits
/// and patches return from the run's copy of the journal, and only the first call not recorded (the frontier) reaches
/// the actor.
/// </summary>
public sealed class LocalReplaySpec(ITestOutputHelper output) : EngineSpec(output)
{
    private const int Steps = 1000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly StepCounter _counter = new();
    private readonly ConcurrentQueue<string> _asked = new();
    private volatile bool _counting;
    private volatile bool _lastFails = true;

    private WorkflowRegistry Long() => new WorkflowRegistry().Add<int, string>("long", async (ctx, count) =>
    {
        var total = 0;
        for (var i = 0; i < count; i++)
        {
            var item = i;
            total += await ctx.StepAsync("item", () => { _counter.Ran("item"); return item; });
        }
        await ctx.SleepAsync(TimeSpan.Zero);
        var patched = await ctx.PatchedAsync("v2");
        var signal = await ctx.WaitForSignalAsync<string>("go", TimeSpan.Zero);
        return await ctx.StepAsync("last", () =>
        {
            _counter.Ran("last");
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
        Assert.Equal((Steps, 2), (_counter["item"], _counter["last"]));
    }
}
