using System.Diagnostics;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Testing;

/// <summary>The crash test on workflows of every shape: each passes at every point, and a buggy one is caught.</summary>
public sealed class CrashTestSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task TwentySequentialSteps_EveryPointPasses()
    {
        var effects = new EffectRecorder();
        var registry = new WorkflowRegistry().Add<int, int>("twenty", async (ctx, steps) =>
        {
            var total = 0;
            for (var i = 1; i <= steps; i++)
            {
                var n = i;
                total += await ctx.StepAsync($"step-{n}", () => { effects.Record($"effect-{n}"); return n; });
            }
            return total;
        });
        var clock = Stopwatch.StartNew();

        var report = await CrashTest.RunAsync(registry, "twenty", 20, new CrashTestOptions { Effects = effects });

        output.WriteLine($"{report} in {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(report.Passed, report.ToString());
        Assert.Equal("COMPLETED 210", report.ExpectedOutcome);
        // The start, one write per step (each carries the previous step's completion), the end.
        Assert.Equal(22, report.JournalWrites);
        Assert.Equal(20, report.StepBodies);
        Assert.Equal(42, report.CrashPoints);
    }
}
