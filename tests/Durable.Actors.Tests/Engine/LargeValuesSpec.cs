using System.Diagnostics.Tracing;
using System.Text.Json;
using Akka.Actor;
using Durable.Actors.Journal;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>Large step results: recorded and replayed exactly, with buffers that go with the workflow, not the runtime's pools.</summary>
/// <remarks>Alone in the process while it runs: one test listens to the pools' events of every thread.</remarks>
[CollectionDefinition(Name, DisableParallelization = true)]
[Collection(Name)]
public sealed class LargeValuesSpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.passivate-after = 200ms")
{
    public const string Name = "large values, alone";

    public sealed record Report(string Text, Dictionary<string, string> Parts);

    /// <summary>100,000 characters with every kind of character a JSON string escapes, and some it need not.</summary>
    private static string Large(char seed) => string.Concat(Enumerable.Repeat($"{seed}\"quoted\" back\\slash\nline\ttab\u0001ctl é 😀 <tag> & '", 3_000))[..100_000];

    private static Report LargeReport() =>
        new(Large('a'), new Dictionary<string, string> { ["large"] = Large('v'), ["small \"key\""] = "x\"y" });

    [Fact]
    public async Task LargeStepResult_WithEveryKindOfEscape_ReplaysExactlyAsItRan()
    {
        var made = new EffectRecorder();
        var failOnce = 1;
        var coordinator = StartEngine(new WorkflowRegistry().Add<string, Report>("large", async (ctx, _) =>
        {
            var report = await ctx.StepAsync("make", () =>
            {
                made.Record("make");
                return LargeReport();
            });
            await ctx.StepAsync("check", _ => Interlocked.Exchange(ref failOnce, 0) == 1
                ? throw new InvalidOperationException("not yet")
                : Task.FromResult(true), RetryPolicy.None);
            return report;
        }));

        Assert.IsType<WorkflowFailed>(await coordinator.Ask<object>(new StartWorkflow("large-1", "large", "\"x\""), RunTimeout));
        // Its actor passivates: the resumed run replays the first step from the journal's record, read back from the
        // file, and the value it reads is the one the body returned.
        await AwaitAssertAsync(async () => Assert.Equal(0, await coordinator.Ask<int>(new Runtime.CountWorkflowActors(), RunTimeout)), RunTimeout);
        var resumed = await coordinator.Ask<object>(new ResumeWorkflow("large-1"), RunTimeout);
        Assert.False(resumed is WorkflowFailed, (resumed as WorkflowFailed)?.Error);
        var completed = Assert.IsType<WorkflowCompleted>(resumed);
        Assert.Equal(1, made.Count("make"));
        var report = completed.GetResult<Report>()!;
        var expected = LargeReport();
        Assert.Equal(expected.Text, report.Text);
        Assert.Equal(expected.Parts, report.Parts);
    }

    [Fact]
    public async Task WorkflowsOfLargeEscapedResults_RunAndPassivate_RentNoLargeBufferFromTheSharedPools()
    {
        // The scenario of W11: the pools kept what System.Text.Json rented for these results long after the actors
        // stopped (2 MiB to escape each 100,000-character string), per thread. Nothing of the engine rents them now.
        // Made before listening: building them rents from the pools too.
        var texts = Enumerable.Range(0, 20).Select(n => Large((char)('a' + n))).ToArray();
        using var rents = new LargeRents(anyThread: true);
        var coordinator = StartEngine(new WorkflowRegistry().Add<int, int>("large-result", async (ctx, n) =>
        {
            var text = await ctx.StepAsync("make", () => texts[n]);
            return text.Length;
        }));
        var client = DurableWorkflows.Client(Sys);

        await Task.WhenAll(Enumerable.Range(0, 20).Select(async n =>
        {
            var handle = await client.StartAsync<int, int>("large-result", $"large-{n}", n);
            Assert.Equal(100_000, await handle.GetResultAsync().WaitAsync(RunTimeout));
        }));
        await AwaitAssertAsync(async () => Assert.Equal(0, await coordinator.Ask<int>(new Runtime.CountWorkflowActors(), RunTimeout)), RunTimeout);

        Assert.Empty(rents.TakeAll());
    }

    [Fact]
    public void LargeValue_WrittenAndReadBack_RentsNoLargeBufferFromTheSharedPools()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        var value = LargeReport();
        using var rents = new LargeRents();

        // What the engine did before: System.Text.Json's string entry points rent megabytes to escape and read the value.
        var json = JsonSerializer.Serialize(value, options);
        Assert.Equal(value.Text, JsonSerializer.Deserialize<Report>(json, options)!.Text);
        Assert.NotEmpty(rents.TakeAll());

        var written = ValueJson.Serialize(value, options);
        var read = ValueJson.Deserialize<Report>(written, options)!;
        Assert.Empty(rents.TakeAll());
        Assert.Equal(value.Text, read.Text);
        Assert.Equal(value.Parts, read.Parts);
        // Plain JSON: System.Text.Json reads it the same.
        Assert.Equal(value.Text, JsonSerializer.Deserialize<Report>(written, options)!.Text);
    }

    /// <summary>
    /// The shared array pools' rents of 64 K elements or more (their event source) while it listens: on this thread, or
    /// on any with <paramref name="anyThread"/>. Smaller ones are System.Text.Json's usual 16 KiB buffers, which do not
    /// grow with the values.
    /// </summary>
    private sealed class LargeRents(bool anyThread = false) : EventListener
    {
        // An event source calls its listeners on the thread that writes the event.
        private readonly int _thread = Environment.CurrentManagedThreadId;
        private readonly List<int> _sizes = [];

        public List<int> TakeAll()
        {
            lock (_sizes)
            {
                var taken = _sizes.ToList();
                _sizes.Clear();
                return taken;
            }
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "System.Buffers.ArrayPoolEventSource")
                EnableEvents(eventSource, EventLevel.Verbose);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName != "BufferRented" || (!anyThread && Environment.CurrentManagedThreadId != _thread) || e.Payload is null)
                return;
            var size = Convert.ToInt32(e.Payload[e.PayloadNames!.IndexOf("bufferSize")], System.Globalization.CultureInfo.InvariantCulture);
            // More than 64 KiB: what a 100,000-character value costs to escape or read (2 MiB before ValueJson). A rent of
            // 64 KiB exactly was once seen from another test's leftover work (this collection runs after the others, alone,
            // but what they began may still end meanwhile): no value of these workflows fits it.
            if (size > 64 * 1024)
            {
                lock (_sizes)
                    _sizes.Add(size);
            }
        }
    }
}
