using Durable.Actors.Advanced;
using Durable.Actors.Runtime;
using Durable.Actors.Storage;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// A host terminated while the journal writer is still committing (SQLite slow to give its lock): the actors stop
/// without a dispatcher thread waiting for the commit, and Terminate ends once what was queued is on disk.
/// </summary>
public sealed class ShutdownSpec : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Terminate_WriteStillCommitting_ActorsStopAtOnceAndTerminateEndsWithTheWriteOnDisk()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new HoldRunCompleted(release.Task);
        // A commit may wait this long for SQLite's lock: before the fix the journal's PostStop waited as long for it.
        var (system, _) = TestSupport.Engine.Start(_folder.Database, new EngineHooks { WriteGate = gate }, new WorkflowRegistry().Add<string, int>("two-steps", async (ctx, _) =>
        {
            var first = await ctx.StepAsync("first", () => 1);
            var second = await ctx.StepAsync("second", () => 2);
            return first + second;
        }), extraHocon: "durable-actors.sqlite.busy-timeout = 300s");
        try
        {
            await DurableWorkflows.Client(system).StartAsync<string, int>("two-steps", "t-1", "x");
            // The run's last write is with the writer, which does not get to commit it yet.
            await gate.Held.WaitAsync(Timeout);

            var terminating = system.Terminate();

            // Every actor stops, the journal too, while the write is still queued: its PostStop did not wait for it.
            await system.WhenTerminated.WaitAsync(Timeout);
            Assert.False(terminating.IsCompleted, "Terminate ended before the queued write was committed.");

            release.SetResult();
            await terminating.WaitAsync(Timeout);
            Assert.True(gate.Committed);
            var events = JournalQueries.Events($"Data Source={_folder.Database}", TimeSpan.FromSeconds(5), WorkflowActor.PersistenceIdPrefix + "t-1");
            Assert.Equal("RJ", events[^1].Manifest);
        }
        finally
        {
            release.TrySetResult();
            await system.Terminate().WaitAsync(Timeout);
        }
    }

    public void Dispose() => _folder.Dispose();

    /// <summary>Holds the writer before the transaction of a run's completion until released.</summary>
    private sealed class HoldRunCompleted(Task release) : IJournalWriteGate
    {
        private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _committed;

        public Task Held => _held.Task;

        public bool Committed => _committed;

        public bool Admit(JournalWrite write)
        {
            if (Completes(write))
            {
                _held.TrySetResult();
                release.Wait();
            }
            return true;
        }

        public void Ended(JournalWrite write, bool committed)
        {
            if (Completes(write))
                _committed = committed;
        }

        private static bool Completes(JournalWrite write) => write.Changes.Any(c => c.Kind == JournalChangeKind.WorkflowCompleted);
    }
}
