using Akka.Actor;
using Akka.Configuration;
using Durable.Actors.Configuration;
using Durable.Actors.Testing;
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
        var counter = new EffectRecorder();
        var coordinator = StartEngine(new WorkflowRegistry().Add<string, string>("big", async (ctx, _) =>
        {
            await ctx.StepAsync("fits", () => { counter.Record("fits"); return new string('a', 60_000); });
            await ctx.StepAsync("too-big", () => { counter.Record("too-big"); return new string('b', 80_000); });   // 80,002 bytes of JSON
            return "unreachable";
        }));

        coordinator.Tell(new StartWorkflow("big-1", "big"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("'too-big' (big-1:2)", failed.Error);
        Assert.Contains("80,002 bytes", failed.Error);
        Assert.Contains("limit of 65,536 bytes", failed.Error);
        Assert.Equal(1, counter.Count("too-big"));   // never retried
        coordinator.Tell(new GetWorkflowStatus("big-1"), TestActor);
        var steps = (await ExpectMsgAsync<WorkflowStatus>(RunTimeout)).Steps;
        Assert.Equal((StepStatus.Completed, StepStatus.Failed), (steps[0].Status, steps[1].Status));
        Assert.Null(steps[1].ResultJson);
        Assert.Contains("max-step-result-size", steps[1].Error);
    }

    [Fact]
    public async Task StepAsync_ResultOfManyQuotes_IsStoredAsItsJson_SoTheLimitBoundsItsJson()
    {
        var coordinator = StartEngine(new WorkflowRegistry().Add<string, int>("empties", async (ctx, _) =>
        {
            // 21,000 empty strings: 63,001 bytes of JSON, under the limit, and stored as such (escaped inside a JSON
            // string, as journals before raw-JSON results kept it, each quote took six bytes: 273,001).
            var many = await ctx.StepAsync("many", () => Enumerable.Repeat("", 21_000).ToList());
            // 22,000: 66,001 bytes, over it.
            var more = await ctx.StepAsync("more", () => Enumerable.Repeat("", 22_000).ToList());
            return many.Count + more.Count;
        }));

        coordinator.Tell(new StartWorkflow("empties-1", "empties"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("'more' (empties-1:2) returned a result of 66,001 bytes of JSON", failed.Error);
        Assert.Contains("limit of 65,536 bytes", failed.Error);
        coordinator.Tell(new GetWorkflowStatus("empties-1"), TestActor);
        var steps = (await ExpectMsgAsync<WorkflowStatus>(RunTimeout)).Steps;
        Assert.Equal(63_001, steps[0].ResultJson!.Length);
        // The row that holds the result is its JSON and a few bytes around it; none is over the limit.
        var rows = StoredRowSizes("empties-1");
        Assert.Contains(rows, size => size is > 63_001 and < 63_001 + 300);
        Assert.All(rows, size => Assert.True(size <= 64 * 1024, $"a stored row of {size:N0} bytes, over the limit of 65,536"));
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
