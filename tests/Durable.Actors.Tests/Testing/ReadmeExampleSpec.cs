using Durable.Actors.Testing;
using Xunit;

namespace Durable.Actors.Tests.Testing;

// The example of README "Testing your workflows", as a user would write it: their workflow, a fake of their service
// that counts its effects, and two tests.
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
    [Fact]
    public async Task Checkout_SurvivesACrashAtEveryPoint()
    {
        var effects = new EffectRecorder();
        var registry = new WorkflowRegistry().Add("checkout", () => new CheckoutWorkflow(new FakePayments(effects), effects));

        var report = await CrashTest.RunAsync(registry, "checkout", new Order("o-1", 25m),
            new CrashTestOptions { Effects = effects, Send = [Send.Signal("shipped", true)] });

        Assert.True(report.Passed, report.ToString());
        Assert.Equal("COMPLETED \"rcpt-o-1 shipped\"", report.ExpectedOutcome);
    }

    [Fact]
    public async Task Checkout_NotShippedWithinAWeek_SendsADelayNotice()
    {
        var effects = new EffectRecorder();
        var registry = new WorkflowRegistry().Add("checkout", () => new CheckoutWorkflow(new FakePayments(effects), effects));
        await using var host = await WorkflowTestHost.StartAsync(registry);

        var result = await host.RunAsync<Order, string>("checkout", "o-2", new Order("o-2", 25m));   // a week passes at once

        Assert.Equal("rcpt-o-2 delayed", result);
        Assert.Equal(1, effects.Count("charge:o-2"));
    }
}
