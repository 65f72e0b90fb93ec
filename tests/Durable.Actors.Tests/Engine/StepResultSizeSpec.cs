using Akka.Actor;
using Akka.Configuration;
using Durable.Actors.Configuration;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>A step result over <c>durable-actors.max-step-result-size</c> fails its step before it reaches the journal.</summary>
public sealed class StepResultSizeSpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.max-step-result-size = 64KiB")
{
    [Fact]
    public async Task StepAsync_ResultOverTheSizeLimit_FailsTheStepOnceNamingStepSizeAndLimitAndNeverCompletesIt()
    {
        var counter = new StepCounter();
        var coordinator = StartEngine(new WorkflowRegistry().Add<string, string>("big", async (ctx, _) =>
        {
            await ctx.StepAsync("fits", () => { counter.Ran("fits"); return new string('a', 60_000); });
            await ctx.StepAsync("too-big", () => { counter.Ran("too-big"); return new string('b', 80_000); });   // 80,002 bytes of JSON
            return "unreachable";
        }));

        coordinator.Tell(new StartWorkflow("big-1", "big"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("'too-big' (big-1:2)", failed.Error);
        Assert.Contains("80,002 bytes", failed.Error);
        Assert.Contains("limit of 65,536 bytes", failed.Error);
        Assert.Equal(1, counter["too-big"]);   // never retried
        coordinator.Tell(new GetWorkflowStatus("big-1"), TestActor);
        var steps = (await ExpectMsgAsync<WorkflowStatus>(RunTimeout)).Steps;
        Assert.Equal((StepStatus.Completed, StepStatus.Failed), (steps[0].Status, steps[1].Status));
        Assert.Null(steps[1].ResultJson);
        Assert.Contains("max-step-result-size", steps[1].Error);
    }

    [Fact]
    public void Settings_MaxStepResultSize_DefaultsTo1MiBAndRefusesZero()
    {
        Assert.Equal(1L << 20, DurableSettings.Create(ConfigurationFactory.Empty).MaxStepResultSize);
        var error = Assert.Throws<ConfigurationException>(() =>
            DurableSettings.Create(ConfigurationFactory.ParseString("durable-actors.max-step-result-size = 0")));
        Assert.Contains("max-step-result-size", error.Message);
    }
}
