using Durable.Actors;
using Durable.Actors.Testing;
using Xunit;

namespace DurableWorker.Tests;

public sealed class OrderWorkflowTests
{
    private readonly EffectRecorder _effects = new();

    private WorkflowRegistry Registry() =>
        new WorkflowRegistry().Add("order", () => new OrderWorkflow(new FakeShop(_effects)));

    [Fact]
    public async Task Order_AsksForAReviewThreeDaysAfterShipping()
    {
        await using var host = await WorkflowTestHost.StartAsync(Registry());
        var order = new Order("o-1", "ada@example.com", 42m);

        // Virtual time: the three days pass as soon as nothing else can happen.
        Assert.Equal("rcpt-o-1", await host.RunAsync<Order, string>("order", order.Id, order));

        Assert.Equal(1, _effects.Count("charge:o-1"));
        Assert.Equal(1, _effects.Count("review:ada@example.com"));
        Assert.True(host.Clock.GetUtcNow() >= WorkflowTestHostOptions.DefaultStartTime.AddDays(3));
    }

    [Fact]
    public async Task Order_SurvivesACrashAtEveryPoint()
    {
        // Crashes the host after every journal write and after every step body, recovers, and checks that the order
        // ends the same and that no customer was charged or mailed twice.
        var report = await CrashTest.RunAsync(Registry(), "order", new Order("o-2", "ada@example.com", 42m),
            new CrashTestOptions { Effects = _effects });
        Assert.True(report.Passed, report.ToString());
    }

    private sealed class FakeShop(EffectRecorder effects) : IShop
    {
        public Task<string> ChargeAsync(Order order, CancellationToken cancellationToken)
        {
            effects.Record($"charge:{order.Id}");
            return Task.FromResult($"rcpt-{order.Id}");
        }

        public Task ShipAsync(Order order, string receipt, CancellationToken cancellationToken)
        {
            effects.Record($"ship:{order.Id}");
            return Task.CompletedTask;
        }

        public Task EmailAsync(string customer, string text, CancellationToken cancellationToken)
        {
            effects.Record($"review:{customer}");
            return Task.CompletedTask;
        }
    }
}
