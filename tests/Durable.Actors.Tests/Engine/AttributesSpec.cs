using Akka.Actor;
using Durable.Actors.Storage;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// Custom attributes: set from a workflow, recorded and replayed, indexed in the transaction of their record, filtering
/// lists and purges, the last value winning.
/// </summary>
public sealed class AttributesSpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.passivate-after = 500ms")
{
    public sealed record Order(string Customer, double Amount, bool Vip);

    private static readonly DateTimeOffset Due = new(2026, 12, 24, 18, 0, 0, TimeSpan.Zero);

    private static readonly System.Text.Json.JsonSerializerOptions Web = new(System.Text.Json.JsonSerializerDefaults.Web);

    private readonly EffectRecorder _effects = new();

    /// <summary>Sets its attributes, a draft flag it removes later, then waits for a signal and raises the amount by it.</summary>
    private WorkflowRegistry Orders() => new WorkflowRegistry().Add<Order, double>("order", async (ctx, order) =>
    {
        await ctx.SetAttributesAsync(new Dictionary<string, object?>
        {
            ["customer"] = order.Customer, ["amount"] = order.Amount, ["vip"] = order.Vip, ["due"] = Due, ["draft"] = true,
        });
        await ctx.StepAsync("charge", () => { _effects.Record("charge"); return order.Amount; });
        var extra = (await ctx.WaitForSignalAsync<double>("extra")).Payload;
        await ctx.SetAttributesAsync(new Dictionary<string, object?> { ["amount"] = order.Amount + extra, ["draft"] = null });
        return order.Amount + extra;
    });

    private async Task<IReadOnlyList<string>> ListAsync(params AttributeFilter[] filters) =>
        (await DurableWorkflows.ListAsync(Sys, new WorkflowQuery { Attributes = filters })).Items.Select(w => w.WorkflowId).Order(StringComparer.Ordinal).ToList();

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={Folder.Database};Pooling=False");
        connection.Open();
        return connection;
    }

    private List<(string WorkflowId, string Name, string Kind, string? Text, double? Number)> Rows()
    {
        using var connection = Open();
        return WorkflowIndexStore.AllAttributes(connection);
    }

    private async Task StartAsync(IActorRef coordinator, string id, Order order)
    {
        coordinator.Tell(new StartWorkflow(id, "order", System.Text.Json.JsonSerializer.Serialize(order, Web)), TestActor);
        await ExpectMsgAsync<WorkflowWaiting>(RunTimeout);
    }

    [Fact]
    public async Task Attributes_FilterTheListByEachKindAndRange_TheLastValueWins_AndTheIndexEqualsARebuild()
    {
        var coordinator = StartEngine(Orders());
        await StartAsync(coordinator, "order-1", new Order("acme", 120, true));
        await StartAsync(coordinator, "order-2", new Order("globex", 80.5, false));
        await StartAsync(coordinator, "order-3", new Order("acme", 40, false));

        Assert.Equal(["order-1", "order-3"], await ListAsync(AttributeFilter.Equal("customer", "acme")));
        Assert.Equal(["order-1", "order-2"], await ListAsync(new AttributeFilter("amount", AttributeComparison.GreaterOrEqual, 80.5)));
        Assert.Equal(["order-2"], await ListAsync(new AttributeFilter("amount", AttributeComparison.Less, 100), AttributeFilter.Parse("customer>=b")));
        Assert.Equal(["order-1"], await ListAsync(AttributeFilter.Parse("vip=true")));
        Assert.Equal(["order-1", "order-2", "order-3"], await ListAsync(AttributeFilter.Parse("due<=2026-12-24T18:00:00Z"), AttributeFilter.Parse("draft=true")));
        Assert.Empty(await ListAsync(AttributeFilter.Parse("due>2026-12-24T18:00:00Z")));
        // A filter of another kind than the value's matches nothing: 120 is no text.
        Assert.Empty(await ListAsync(AttributeFilter.Parse("amount=\"120\"")));
        Assert.Empty(await ListAsync(AttributeFilter.Equal("missing", "x")));

        // The second set replaces the amount and removes the draft flag.
        coordinator.Tell(new SignalWorkflow("order-3", "extra", "100"), TestActor);
        await ExpectMsgAsync<SignalDelivered>(RunTimeout);
        await AwaitConditionAsync(async () => (await DurableWorkflows.GetStatusAsync(Sys, "order-3"))!.Status == WorkflowRunStatus.Completed,
            RunTimeout, interval: Polling.Interval);
        Assert.Equal(["order-1", "order-3"], await ListAsync(AttributeFilter.Parse("amount>100")));
        Assert.Equal(["order-1", "order-2"], await ListAsync(AttributeFilter.Parse("draft=true")));
        var status = (await DurableWorkflows.GetStatusAsync(Sys, "order-3"))!;
        Assert.Equal(
            new Dictionary<string, object> { ["customer"] = "acme", ["amount"] = 140.0, ["vip"] = false, ["due"] = Due },
            status.Attributes);

        // Each set was recorded once: the replay after the signal set nothing again.
        Assert.Equal(2, status.Steps.Count(s => s.StepId == "durable.attributes"));
        Assert.Equal(3, _effects.Count("charge"));

        var written = Rows();
        Assert.Equal(4 + 5 + 5, written.Count);
        using (var connection = Open())
            WorkflowIndexStore.Rebuild(connection);
        Assert.Equal(written, Rows());
    }

    [Fact]
    public async Task Purge_RemovesAWorkflowsAttributes_AndTheIdStartedAgainHasOnlyItsNewOnes()
    {
        var coordinator = StartEngine(Orders());
        await StartAsync(coordinator, "order-1", new Order("acme", 120, true));
        coordinator.Tell(new SignalWorkflow("order-1", "extra", "1"), TestActor);
        await ExpectMsgAsync<SignalDelivered>(RunTimeout);
        await AwaitConditionAsync(async () => (await DurableWorkflows.GetStatusAsync(Sys, "order-1"))!.Status == WorkflowRunStatus.Completed,
            RunTimeout, interval: Polling.Interval);
        await StartAsync(coordinator, "order-2", new Order("acme", 5, false));

        // A purge by attribute takes the ended workflow only.
        var purged = await WorkflowClient.Of(Sys).PurgeAsync(new WorkflowQuery { Attributes = [AttributeFilter.Equal("customer", "acme")] });
        Assert.Equal(["order-1"], purged);
        Assert.DoesNotContain(Rows(), r => r.WorkflowId == "order-1");
        Assert.Equal(4 + 1, Rows().Count(r => r.WorkflowId == "order-2"));

        await StartAsync(coordinator, "order-1", new Order("initech", 7, false));
        Assert.Equal(["order-1"], await ListAsync(AttributeFilter.Equal("customer", "initech")));
        Assert.Equal(["order-2"], await ListAsync(AttributeFilter.Equal("customer", "acme")));

        // A row reset by a workflow's first event (an id whose row outlived its events) takes its attributes with it.
        using (var connection = Open())
        using (var reset = connection.CreateCommand())
        {
            reset.CommandText = WorkflowIndexStore.InsertSql.Replace("?1", "'order-2'").Replace("?2", "'order'").Replace("?3", "'running'").Replace("?4", "1");
            reset.ExecuteNonQuery();
        }
        Assert.DoesNotContain(Rows(), r => r.WorkflowId == "order-2");
        Assert.Equal(5, Rows().Count);
    }

    [Theory]
    [InlineData("bad name", "'bad name' is not an attribute name")]
    [InlineData("long", "Attribute 'long' of workflow 'tagger-1' is 1,001 characters long; at most 1,000 are kept.")]
    [InlineData("nan", "Attribute 'nan' of workflow 'tagger-1' is NaN; a number attribute must be finite.")]
    [InlineData("guid", "Attribute 'guid' of workflow 'tagger-1' is a Guid; an attribute is a string, a number, a bool or a time.")]
    [InlineData("many", "33 attributes of workflow 'tagger-1' are set at once; at most 32 are.")]
    public async Task OutOfBounds_IsRefusedWithAnArgumentException_AndNothingIsRecorded(string which, string expected)
    {
        var registry = new WorkflowRegistry().Add<string, string>("tagger", async (ctx, _) =>
        {
            var attributes = which switch
            {
                "long" => new Dictionary<string, object?> { ["long"] = new string('x', 1001) },
                "nan" => new Dictionary<string, object?> { ["nan"] = double.NaN },
                "guid" => new Dictionary<string, object?> { ["guid"] = Guid.Empty },
                "many" => Enumerable.Range(0, 33).ToDictionary(i => $"a{i}", i => (object?)i),
                _ => new Dictionary<string, object?> { [which] = 1 },
            };
            try
            {
                await ctx.SetAttributesAsync(attributes);
                return "set";
            }
            catch (ArgumentException e)
            {
                return e.Message;
            }
        });
        var coordinator = StartEngine(registry);
        coordinator.Tell(new StartWorkflow("tagger-1", "tagger"), TestActor);

        var result = (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>()!;
        Assert.StartsWith(expected, result);
        var status = (await DurableWorkflows.GetStatusAsync(Sys, "tagger-1"))!;
        Assert.Empty(status.Attributes);
        Assert.Empty(status.Steps);
        Assert.Empty(Rows());
    }
}
