using Durable.Actors;

namespace DurableWorker;

public sealed record Order(string Id, string Customer, decimal Amount);

/// <summary>What the workflow does to the world. Each call runs in a step, so it runs once per order even across crashes.</summary>
public interface IShop
{
    Task<string> ChargeAsync(Order order, CancellationToken cancellationToken);

    Task ShipAsync(Order order, string receipt, CancellationToken cancellationToken);

    Task EmailAsync(string customer, string text, CancellationToken cancellationToken);
}

/// <summary>
/// Charges, ships, waits three days (durably: a restart in between does not start the wait again, and a waiting order
/// costs no memory), then asks for a review. Code outside steps must be deterministic: it runs again on every replay.
/// </summary>
public sealed class OrderWorkflow(IShop shop) : IWorkflow<Order, string>
{
    public async Task<string> RunAsync(IWorkflowContext ctx, Order order)
    {
        var receipt = await ctx.StepAsync("charge", ct => shop.ChargeAsync(order, ct));
        await ctx.StepAsync("ship", ct => shop.ShipAsync(order, receipt, ct));
        await ctx.SleepAsync(TimeSpan.FromDays(3));
        await ctx.StepAsync("ask-for-review", ct => shop.EmailAsync(order.Customer, $"How was order {order.Id}?", ct));
        return receipt;
    }
}
