using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>Two hosts on one database start the same workflow: the second waits on the first's step, not on the stale timeout.</summary>
public sealed class TwoHostsSpec : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempFolder _folder = new();
    private readonly EffectRecorder _counter = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkflowRegistry Registry() => new WorkflowRegistry().Add<string, string>("slow", async (ctx, _) =>
    {
        await ctx.StepAsync("first", () => _counter.Record("first"));
        return await ctx.StepAsync("slow", async _ =>
        {
            _counter.Record("slow");
            await _release.Task;
            return "done";
        });
    });

    [Fact]
    public async Task SecondHostStartsTheSameId_FirstHostFinishes_SecondSeesItLongBeforeTheStaleTimeout()
    {
        // The stale timeout (60 s) is twice this test's wait: only seeing the first host's records can pass it.
        const string hocon = "durable-actors.stale-timeout = 60s\ndurable-actors.recover-on-start = off";
        var slowStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondWaits = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstObserver = new RecordingObserver { OnReport = r => { if (r is { Kind: StepReportKind.Starting, StepId: "slow" }) slowStarted.TrySetResult(); } };
        var secondObserver = new RecordingObserver { OnReport = r => { if (r.Kind == StepReportKind.Waiting) secondWaits.TrySetResult(); } };
        var (first, firstCoordinator) = TestSupport.Engine.Start(_folder.Database, Registry(), firstObserver, hocon);
        var (second, secondCoordinator) = TestSupport.Engine.Start(_folder.Database, Registry(), secondObserver, hocon);
        try
        {
            var firstReply = firstCoordinator.Ask<object>(new StartWorkflow("shared-1", "slow"), Timeout);
            await slowStarted.Task.WaitAsync(Timeout);
            var secondReply = secondCoordinator.Ask<object>(new StartWorkflow("shared-1", "slow"), Timeout);
            await secondWaits.Task.WaitAsync(Timeout);

            _release.SetResult();

            Assert.Equal("done", Assert.IsType<WorkflowCompleted>(await firstReply).GetResult<string>());
            Assert.Equal("done", Assert.IsType<WorkflowCompleted>(await secondReply).GetResult<string>());
            Assert.Equal((1, 1), (_counter.Count("first"), _counter.Count("slow")));
        }
        finally
        {
            await second.Terminate();
            await first.Terminate();
        }
    }

    public void Dispose() => _folder.Dispose();
}
