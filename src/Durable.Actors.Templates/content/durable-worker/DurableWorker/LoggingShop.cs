using Microsoft.Extensions.Logging;

namespace DurableWorker;

/// <summary>A stand-in for the real payment, shipping and mail services: it logs what it would do.</summary>
public sealed partial class LoggingShop(ILogger<LoggingShop> logger) : IShop
{
    public Task<string> ChargeAsync(Order order, CancellationToken cancellationToken)
    {
        LogCharged(order.Id, order.Amount);
        return Task.FromResult($"rcpt-{order.Id}");
    }

    public Task ShipAsync(Order order, string receipt, CancellationToken cancellationToken)
    {
        LogShipped(order.Id, receipt);
        return Task.CompletedTask;
    }

    public Task EmailAsync(string customer, string text, CancellationToken cancellationToken)
    {
        LogMailed(customer, text);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Charged order {OrderId}: {Amount}")]
    private partial void LogCharged(string orderId, decimal amount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shipped order {OrderId} ({Receipt})")]
    private partial void LogShipped(string orderId, string receipt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Mailed {Customer}: {Text}")]
    private partial void LogMailed(string customer, string text);
}
