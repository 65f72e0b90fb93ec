using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Testing;

/// <summary>Mistakes in a test using the kit get one clear message, never a hang.</summary>
public sealed class KitBadInputSpec
{
    private static WorkflowRegistry Waiter() => new WorkflowRegistry().Add<string, string>("waiter", async (ctx, _) =>
    {
        await ctx.StepAsync("before", () => 1);
        var go = await ctx.WaitForSignalAsync<string>("go");
        return go.Payload!;
    });

    [Fact]
    public async Task UnknownWorkflowType_SaysWhatIsRegistered()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => CrashTest.RunAsync(Waiter(), "nope", "x"));

        Assert.Equal("The start of 'crash-test' was rejected: unknown workflow type 'nope' (registered: waiter)", error.Message);
    }

    [Fact]
    public async Task SignalNeverSent_TheRunWithoutCrashesSaysWhatItWaitsFor()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => CrashTest.RunAsync(Waiter(), "waiter", "x"));

        Assert.Equal("The run of 'crash-test' without crashes did not end: it waits and nothing more is sent or due: 'crash-test' RUNNING, waiting for signal 'go'", error.Message);
    }

    [Fact]
    public async Task MoreSignalsThanTheWorkflowTakes_NamesTheFirstNeverSent()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => CrashTest.RunAsync(Waiter(), "waiter", "x",
            new CrashTestOptions { Send = [Send.Signal("go", "now"), Send.Signal("go", "again")] }));

        Assert.Equal("The run of 'crash-test' without crashes ended before signal 'go' \"again\" was sent (1 of 2 never sent)", error.Message);
    }

    [Fact]
    public async Task AdvanceByANegativeTime_IsRefused()
    {
        await using var host = await WorkflowTestHost.StartAsync(Waiter());

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => host.AdvanceAsync(TimeSpan.FromSeconds(-1)));
    }
}
