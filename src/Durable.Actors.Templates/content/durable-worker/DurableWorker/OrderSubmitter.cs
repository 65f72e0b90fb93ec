using Akka.Actor;
using Akka.Hosting;
using Durable.Actors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DurableWorker;

/// <summary>
/// Starts an order through the typed client once the engine is up, and logs its result. Starting an id that exists
/// starts nothing: after a restart the same order is found (the engine resumes it by itself), not placed twice.
/// </summary>
public sealed partial class OrderSubmitter(
    IRequiredActor<WorkflowCoordinator> coordinator, IServiceProvider services, ILogger<OrderSubmitter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await coordinator.GetAsync(stoppingToken);
        var client = DurableWorkflows.Client(services.GetRequiredService<ActorSystem>());

        var order = new Order("order-1", "ada@example.com", 42m);
        var handle = await client.StartAsync<Order, string>("order", order.Id, order, stoppingToken);
        LogStarted(order.Id);
        var receipt = await handle.GetResultAsync(stoppingToken);
        LogCompleted(order.Id, receipt);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Order {OrderId} started (durable)")]
    private partial void LogStarted(string orderId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Order {OrderId} completed: {Receipt}")]
    private partial void LogCompleted(string orderId, string receipt);
}
