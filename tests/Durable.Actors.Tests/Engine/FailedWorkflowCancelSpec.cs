using Durable.Actors.Advanced;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// Cancelling a FAILED workflow ends it CANCELLED with no run; when the write of that end fails (a crash, a full disk),
/// the cancellation stays requested and cancelling it again ends it.
/// </summary>
public sealed class FailedWorkflowCancelSpec : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task CancelOfAFailedWorkflowWhoseEndWasNotWritten_EndsItWhenAskedAgain()
    {
        var gate = new JournalGate { RefuseOnce = c => c.Kind == JournalChangeKind.WorkflowCancelled };
        var (system, _) = TestSupport.Engine.Start(_folder.Database, new EngineHooks { WriteGate = gate }, new WorkflowRegistry().Add<string, int>("failing", async (ctx, _) =>
            await ctx.StepAsync<int>("charge", () => throw new InvalidOperationException("card declined"), RetryPolicy.None)));
        try
        {
            var client = DurableWorkflows.Client(system);
            var handle = await client.StartAsync<string, int>("failing", "f-1", "x");
            await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync().WaitAsync(Timeout));

            await handle.CancelAsync("not needed").WaitAsync(Timeout);
            await Polling.UntilAsync(() => gate.Refused == 1, "the write of the cancelled end to be refused", Timeout);
            Assert.Equal(WorkflowRunStatus.Failed, (await handle.GetStatusAsync().WaitAsync(Timeout)).Status);

            await handle.CancelAsync("not needed").WaitAsync(Timeout);
            await Polling.UntilAsync(async () => (await handle.GetStatusAsync()).Status == WorkflowRunStatus.Cancelled, "the workflow to end cancelled", Timeout);
        }
        finally
        {
            await system.Terminate().WaitAsync(Timeout);
        }
    }

    public void Dispose() => _folder.Dispose();
}
