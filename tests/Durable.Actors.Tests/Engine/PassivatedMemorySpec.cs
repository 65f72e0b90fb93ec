using System.Globalization;
using Akka.Actor;
using Durable.Actors.Runtime;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>Once the actors of finished workflows have passivated, what they produced is not kept in memory.</summary>
/// <remarks>Alone (after the other tests): it measures the process's heap, which tests running beside it would add to.</remarks>
[Collection(PassivatedMemorySpec.Alone)]
public sealed class PassivatedMemorySpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.passivate-after = 200ms")
{
    public const string Alone = "memory";

    private const int Workflows = 300;
    private const int ResultChars = 100_000;

    [Fact]
    public async Task LargeResults_ActorsPassivated_NeitherTheResultsNorBuffersSizedForThemStayReachable()
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
        var before = GC.GetTotalMemory(forceFullCollection: true);

        await Task.WhenAll(Enumerable.Range(0, Workflows).Select(async n =>
        {
            var handle = await client.StartAsync<int, string>("large-result", "large-" + n.ToString(CultureInfo.InvariantCulture), n);
            Assert.Equal(ResultChars, (await handle.GetResultAsync().WaitAsync(RunTimeout)).Length);
        }));
        await AwaitAssertAsync(async () => Assert.Equal(0, await coordinator.Ask<int>(new CountWorkflowActors(), RunTimeout)), RunTimeout);

        var kept = GC.GetTotalMemory(forceFullCollection: true) - before;
        Output.WriteLine($"reachable after the actors stopped: {kept / 1048576.0:0.0} MiB more than before the workflows ran");
        lock (gate)
        {
            Assert.Equal(Workflows, results.Count);
            Assert.DoesNotContain(results, r => r.IsAlive);
        }
        // The results take 30 MB as stored (UTF-8), 60 MB as strings. What may stay are buffers of System.Text.Json's
        // own size, one set per pool thread that handled a result, which the shared array pool lets go after a while;
        // before the fix the journal's serializer left 2 MiB more per thread (54 MiB here on 20 threads).
        Assert.True(kept < Workflows * (long)ResultChars,
            $"{kept / 1048576.0:0.0} MiB stayed reachable after the actors of {Workflows} workflows with {ResultChars / 1000} KB results stopped");
    }
}

[CollectionDefinition(PassivatedMemorySpec.Alone, DisableParallelization = true)]
public sealed class PassivatedMemoryAlone;
