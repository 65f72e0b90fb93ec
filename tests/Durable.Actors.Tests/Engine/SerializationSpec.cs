using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

public sealed class SerializationSpec(ITestOutputHelper output) : EngineSpec(output)
{
    public enum Tier { Bronze, Silver, Gold }

    [JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
    [JsonDerivedType(typeof(Circle), "circle")]
    [JsonDerivedType(typeof(Square), "square")]
    public abstract record Shape;

    public sealed record Circle(double Radius) : Shape;

    public sealed record Square(double Side) : Shape;

    public sealed record Customer(string Name, Tier Tier, decimal Balance, DateTimeOffset Since, int? Age, string? Nickname);

    public sealed record Values(
        Customer Customer,
        List<int> Numbers,
        Dictionary<string, decimal> Prices,
        string? Nothing,
        int? NoNumber,
        Tier Tier,
        DateTimeOffset At,
        decimal Amount,
        Shape Shape);

    private static readonly Customer Ada = new("Ada", Tier.Gold, 12345678901234567.89m, new DateTimeOffset(2026, 11, 25, 9, 30, 15, 123, TimeSpan.FromHours(2)), null, "countess");
    private static readonly DateTimeOffset At = new(2026, 1, 2, 3, 4, 5, 678, TimeSpan.FromHours(-5.5));

    private static WorkflowRegistry Registry(EffectRecorder counter, JsonSerializerOptions? json = null)
    {
        var registry = new WorkflowRegistry().Add<string, Values>("values", async (ctx, _) =>
        {
            T Ran<T>(T value) { counter.Record("step"); return value; }
            return new Values(
                await ctx.StepAsync("record", () => Ran(Ada)),
                await ctx.StepAsync("list", () => Ran(new List<int> { 3, 1, 2 })),
                await ctx.StepAsync("dictionary", () => Ran(new Dictionary<string, decimal> { ["tea"] = 0.1m, ["cake"] = 3.333333333333333333m })),
                await ctx.StepAsync("null-string", () => Ran<string?>(null)),
                await ctx.StepAsync("null-int", () => Ran<int?>(null)),
                await ctx.StepAsync("enum", () => Ran(Tier.Silver)),
                await ctx.StepAsync("date", () => Ran(At)),
                await ctx.StepAsync("decimal", () => Ran(0.1m + 0.2m)),
                await ctx.StepAsync<Shape>("polymorphic", () => Ran<Shape>(new Circle(2.5))));
        });
        if (json is not null)
            registry.JsonOptions = json;
        return registry;
    }

    private static void AssertExact(Values v)
    {
        Assert.Equal(Ada, v.Customer);
        Assert.Equal(TimeSpan.FromHours(2), v.Customer.Since.Offset);
        Assert.Equal([3, 1, 2], v.Numbers);
        Assert.Equal(new Dictionary<string, decimal> { ["tea"] = 0.1m, ["cake"] = 3.333333333333333333m }, v.Prices);
        Assert.Null(v.Nothing);
        Assert.Null(v.NoNumber);
        Assert.Equal(Tier.Silver, v.Tier);
        Assert.Equal(At, v.At);
        Assert.Equal(At.Offset, v.At.Offset);
        Assert.Equal(0.3m, v.Amount);
        Assert.Equal(new Circle(2.5), Assert.IsType<Circle>(v.Shape));
    }

    [Fact]
    public async Task StepAsync_ResultsOfManyTypes_RoundTripExactlyWhenExecutedAndWhenReplayed()
    {
        var counter = new EffectRecorder();
        var coordinator = StartEngine(Registry(counter));

        coordinator.Tell(new StartWorkflow("values-1", "values"), TestActor);
        var executed = (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<Values>()!;
        coordinator.Tell(new ResumeWorkflow("values-1"), TestActor);
        var replayed = (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<Values>()!;

        AssertExact(executed);
        AssertExact(replayed);
        Assert.Equal(9, counter.Count("step"));
    }

    [Fact]
    public async Task StepAsync_WithTheUsersJsonOptions_RecordsResultsWithThem()
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
        var counter = new EffectRecorder();
        var coordinator = StartEngine(Registry(counter, json));

        coordinator.Tell(new StartWorkflow("values-2", "values"), TestActor);
        var executed = (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<Values>(json)!;

        AssertExact(executed);
        coordinator.Tell(new GetWorkflowStatus("values-2"), TestActor);
        var status = await ExpectMsgAsync<WorkflowStatus>(RunTimeout);
        Assert.Equal("\"Silver\"", status.Steps.Single(s => s.StepId == "enum").ResultJson);
    }

    public sealed class Node
    {
        public Node? Next { get; set; }
    }

    [Fact]
    public async Task StepAsync_ResultCannotBeSerialized_FailsTheStepNamingStepAndTypeAndNeverCompletesIt()
    {
        var coordinator = StartEngine(new WorkflowRegistry().Add<string, string>("cyclic", async (ctx, _) =>
        {
            await ctx.StepAsync("make-cycle", () =>
            {
                var node = new Node();
                node.Next = node;
                return node;
            });
            return "unreachable";
        }));

        coordinator.Tell(new StartWorkflow("cyclic-1", "cyclic"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("'make-cycle'", failed.Error);
        Assert.Contains(typeof(Node).FullName!, failed.Error);
        coordinator.Tell(new GetWorkflowStatus("cyclic-1"), TestActor);
        var step = Assert.Single((await ExpectMsgAsync<WorkflowStatus>(RunTimeout)).Steps);
        Assert.Equal(StepStatus.Failed, step.Status);
        Assert.Null(step.ResultJson);
    }

    public sealed record ReceiptV1(string Number);

    public sealed record ReceiptV2(int Number, string Currency);

    [Fact]
    public async Task Resume_StepResultTypeChangedSinceItWasRecorded_FailsNamingWorkflowKeyStepAndBothTypes()
    {
        var version = 1;
        var registry = new WorkflowRegistry().Add<string, string>("charging", async (ctx, _) =>
        {
            if (version == 1)
            {
                await ctx.StepAsync("charge", () => new ReceiptV1("R-17"));
                throw new InvalidOperationException("failed after charging");
            }
            var receipt = await ctx.StepAsync("charge", () => new ReceiptV2(17, "EUR"));
            return receipt.Currency;
        });
        var coordinator = StartEngine(registry);
        coordinator.Tell(new StartWorkflow("receipt-1", "charging"), TestActor);
        await ExpectMsgAsync<WorkflowFailed>(RunTimeout);

        version = 2;
        coordinator.Tell(new ResumeWorkflow("receipt-1"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("Workflow 'receipt-1' cannot replay step 'charge' (receipt-1:1)", failed.Error);
        Assert.Contains("recorded as Durable.Actors.Tests.Engine.SerializationSpec.ReceiptV1", failed.Error);
        Assert.Contains("does not read as Durable.Actors.Tests.Engine.SerializationSpec.ReceiptV2", failed.Error);
        Assert.Contains("start a new workflow id", failed.Error);
        var step = Assert.Single((await DurableWorkflows.GetStatusAsync(Sys, "receipt-1"))!.Steps);
        Assert.Equal((StepStatus.Completed, "{\"number\":\"R-17\"}"), (step.Status, step.ResultJson));
    }

    [Fact]
    public async Task GetResult_RegistryWithItsOwnOptions_ReadsTheReplyWithThemWithoutPassingThemAgain()
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
        var registry = new WorkflowRegistry { JsonOptions = json }.Add<string, Tier>("tiering", async (ctx, _) =>
            await ctx.StepAsync("tier", () => Tier.Gold));
        var coordinator = StartEngine(registry);

        coordinator.Tell(new StartWorkflow("tier-1", "tiering"), TestActor);

        var completed = await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        Assert.Equal("\"Gold\"", completed.ResultJson);
        Assert.Equal(Tier.Gold, completed.GetResult<Tier>());
    }
}
