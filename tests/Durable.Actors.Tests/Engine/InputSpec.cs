using Akka.Actor;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>An input that does not fit the workflow's input type is rejected before anything is journaled.</summary>
public sealed class InputSpec(ITestOutputHelper output) : EngineSpec(output)
{
    public sealed record Order(string Id, decimal Amount);

    public sealed class Payment
    {
        public required string Reference { get; init; }

        public decimal Amount { get; init; }
    }

    private sealed class OrderWorkflow : IWorkflow<Order, string>
    {
        public Task<string> RunAsync(IWorkflowContext context, Order input) => context.StepAsync("ship", () => input.Id);
    }

    private sealed class OptionalOrderWorkflow : IWorkflow<Order, string>
    {
        public Task<string> RunAsync(IWorkflowContext context, Order? input) => context.StepAsync("ship", () => input?.Id ?? "none");
    }

    private sealed class PaymentWorkflow : IWorkflow<Payment, string>
    {
        public Task<string> RunAsync(IWorkflowContext context, Payment input) => context.StepAsync("pay", () => input.Reference);
    }

    private IActorRef Engine() => StartEngine(new WorkflowRegistry()
        .Add("order", () => new OrderWorkflow())
        .Add("optional-order", () => new OptionalOrderWorkflow())
        .Add("payment", () => new PaymentWorkflow()));

    [Theory]
    [InlineData("order", null, "input is missing (JSON null): the workflow's input Durable.Actors.Tests.Engine.InputSpec.Order is not nullable")]
    [InlineData("order", "null", "input is missing (JSON null)")]
    [InlineData("order", "{\"amount\": 3}", "'id'")]
    [InlineData("order", "{\"id\": null, \"amount\": 3}", "'id'")]
    [InlineData("payment", "{\"amount\": 3}", "'reference'")]
    public async Task Start_InputThatDoesNotFitTheType_IsRejectedAndNothingIsJournaled(string type, string? input, string expected)
    {
        var coordinator = Engine();

        coordinator.Tell(new StartWorkflow("in-1", type, input), TestActor);

        var rejected = await ExpectMsgAsync<WorkflowRejected>(RunTimeout);
        Assert.Contains(expected, rejected.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Null(await DurableWorkflows.GetStatusAsync(Sys, "in-1"));
    }

    [Fact]
    public async Task Start_NullInputOfAWorkflowThatDeclaresItNullable_Runs()
    {
        var coordinator = Engine();

        coordinator.Tell(new StartWorkflow("in-2", "optional-order"), TestActor);

        Assert.Equal("none", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
    }
}
