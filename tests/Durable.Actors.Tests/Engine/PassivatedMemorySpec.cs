using System.Globalization;
using Akka.Actor;
using Durable.Actors.Runtime;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>Once the actors of finished workflows have passivated, what they produced is not kept in memory.</summary>
public sealed class PassivatedMemorySpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.passivate-after = 200ms")
{
    private const int Workflows = 300;
    private const int ResultChars = 100_000;

    [Fact]
    public async Task LargeResults_ActorsPassivated_NoResultStaysReachable()
    {
        var results = new List<WeakReference>();
        var gate = new Lock();
        var coordinator = StartEngine(new WorkflowRegistry().Add<int, string>("large-result", async (ctx, n) =>
        {
            var result = await ctx.StepAsync("make", () => new string((char)('a' + (n % 26)), ResultChars));
            lock (gate)
                results.Add(new WeakReference(result));
            return result;
        }));
        var client = DurableWorkflows.Client(Sys);

        await Task.WhenAll(Enumerable.Range(0, Workflows).Select(async n =>
        {
            var handle = await client.StartAsync<int, string>("large-result", "large-" + n.ToString(CultureInfo.InvariantCulture), n);
            Assert.Equal(ResultChars, (await handle.GetResultAsync().WaitAsync(RunTimeout)).Length);
        }));
        await AwaitAssertAsync(async () => Assert.Equal(0, await coordinator.Ask<int>(new CountWorkflowActors(), RunTimeout)), RunTimeout);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        lock (gate)
        {
            Assert.Equal(Workflows, results.Count);
            Assert.DoesNotContain(results, r => r.IsAlive);
        }
        // Not asserted here: the buffers the shared array pool keeps per thread for System.Text.Json (the benchmark README's
        // "Large results after passivation"), whose amount grows with the threads of the whole test process; memory is
        // the benchmark's to measure.
    }
}
