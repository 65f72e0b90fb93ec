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
        var refused = 0;
        var gate = new RefuseFirst(c => c.Kind == JournalChangeKind.WorkflowCancelled, () => Interlocked.Increment(ref refused));
        var (system, _) = TestSupport.Engine.Start(_folder.Database, new EngineHooks { WriteGate = gate }, new WorkflowRegistry().Add<string, int>("failing", async (ctx, _) =>
            await ctx.StepAsync<int>("charge", () => throw new InvalidOperationException("card declined"), RetryPolicy.None)));
        try
        {
            var client = DurableWorkflows.Client(system);
            var handle = await client.StartAsync<string, int>("failing", "f-1", "x");
            await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync().WaitAsync(Timeout));

            await handle.CancelAsync("not needed").WaitAsync(Timeout);
            await Polling.UntilAsync(() => Volatile.Read(ref refused) == 1, "the write of the cancelled end to be refused", Timeout);
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

    /// <summary>Refuses the first write with a matching change (as a failed write); admits every other.</summary>
    private sealed class RefuseFirst(Func<JournalChange, bool> match, Action refused) : IJournalWriteGate
    {
        private bool _done;

        public bool Admit(JournalWrite write)
        {
            // On the writer's thread, one write at a time.
            if (_done || !write.Changes.Any(match))
                return true;
            _done = true;
            refused();
            return false;
        }

        public void Ended(JournalWrite write, bool committed)
        {
        }
    }
}
