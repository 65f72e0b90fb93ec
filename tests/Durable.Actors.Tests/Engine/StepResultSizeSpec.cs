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
    public async Task StepAsync_ResultUnderTheLimitAsJsonButOverItStored_FailsTheStep_NoStoredRowIsOverTheLimit()
    {
        var coordinator = StartEngine(new WorkflowRegistry().Add<string, int>("empties", async (ctx, _) =>
        {
            // 4,000 empty strings: 12,001 bytes of JSON, 52,001 stored (each quote is escaped as six bytes): it fits.
            var few = await ctx.StepAsync("few", () => Enumerable.Repeat("", 4_000).ToList());
            // 21,000: 63,001 bytes of JSON, under the limit, but 273,001 stored.
            var many = await ctx.StepAsync("many", () => Enumerable.Repeat("", 21_000).ToList());
            return few.Count + many.Count;
        }));

        coordinator.Tell(new StartWorkflow("empties-1", "empties"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("'many' (empties-1:2)", failed.Error);
        Assert.Contains("63,001 bytes of JSON that the journal stores as 273,001 bytes", failed.Error);
        Assert.Contains("limit of 65,536 bytes", failed.Error);
        var rows = StoredRowSizes("empties-1");
        Assert.All(rows, size => Assert.True(size <= 64 * 1024, $"a stored row of {size:N0} bytes, over the limit of 65,536"));
        // The result that fits is stored whole.
        Assert.Contains(rows, size => size > 52_001);
    }

    /// <summary>The size of each of the workflow's rows in the journal table, as the SQLite file holds them.</summary>
    private List<long> StoredRowSizes(string workflowId)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Folder.Database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT length(message) FROM journal WHERE persistence_id = $pid";
        command.Parameters.AddWithValue("$pid", "workflow-" + workflowId);
        using var reader = command.ExecuteReader();
        var sizes = new List<long>();
        while (reader.Read())
            sizes.Add(reader.GetInt64(0));
        return sizes;
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
