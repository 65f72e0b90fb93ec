using Durable.Actors.Testing;
using Xunit;

namespace Durable.Actors.Tests.Testing;

// The example of the test kit's README (src/Durable.Actors.Testing/README.md), as a user would write it: their
// workflow, a fake of their service that counts its effects, and two tests.
public sealed record Order(string Id, decimal Amount);

public interface IPayments
{
    Task<string> ChargeAsync(string orderId, decimal amount, CancellationToken ct);
}

public sealed class FakePayments(EffectRecorder effects) : IPayments
{
    public Task<string> ChargeAsync(string orderId, decimal amount, CancellationToken ct)
    {
        effects.Record($"charge:{orderId}");
        return Task.FromResult($"rcpt-{orderId}");
    }
}

public sealed class CheckoutWorkflow(IPayments payments, EffectRecorder effects) : IWorkflow<Order, string>
{
    public async Task<string> RunAsync(IWorkflowContext context, Order input)
    {
        await context.StepAsync("reserve-stock", () => { effects.Record($"reserve:{input.Id}"); return true; });
        var receipt = await context.StepAsync("charge-card", ct => payments.ChargeAsync(input.Id, input.Amount, ct));
        var shipped = await context.WaitForSignalAsync<bool>("shipped", TimeSpan.FromDays(7));
        await context.StepAsync(shipped.TimedOut ? "send-delay-notice" : "send-confirmation", () => { effects.Record($"mail:{input.Id}"); return 1; });
        return shipped.TimedOut ? $"{receipt} delayed" : $"{receipt} shipped";
    }
}

public sealed class ReadmeExampleSpec
{
    private readonly EffectRecorder _effects = new();      // the fakes call _effects.Record("charge:o-1")

    private WorkflowRegistry Registry() =>
        new WorkflowRegistry().Add("checkout", () => new CheckoutWorkflow(new FakePayments(_effects), _effects));

    [Fact]
    public async Task Checkout_SurvivesACrashAtEveryPoint()
    {
        var report = await CrashTest.RunAsync(Registry(), "checkout", new Order("o-1", 25m),
            new CrashTestOptions { Effects = _effects, Send = [Send.Signal("shipped", true)] });
        Assert.True(report.Passed, report.ToString());
        Assert.Equal("COMPLETED \"rcpt-o-1 shipped\"", report.ExpectedOutcome);
    }

    [Fact]
    public async Task Checkout_NotShippedWithinAWeek_SendsADelayNotice()
    {
        await using var host = await WorkflowTestHost.StartAsync(Registry());
        Assert.Equal("rcpt-o-2 delayed", await host.RunAsync<Order, string>("checkout", "o-2", new Order("o-2", 25m)));
        Assert.Equal(1, _effects.Count("charge:o-2"));                  // a week passed at once
    }
}
