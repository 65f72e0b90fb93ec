using Akka.Actor;
using Durable.Actors.Runtime;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// A host stopped gracefully writes the completions of step bodies that returned and were still waiting for their
/// run's next record: a completed step does not run again after a graceful stop (only a crash may do that).
/// </summary>
public sealed class GracefulStopSpec : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task HostStoppedWhileAStepsCompletionWaitsToBeWritten_WritesIt()
    {
        var runs = 0;
        var flushHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new WorkflowRegistry().Add<string, string>("then-waits", async (ctx, _) =>
        {
            var one = await ctx.StepAsync("one", () => { Interlocked.Increment(ref runs); return "1"; });
            await never.Task; // outside any step: the completion waits for the idle flush, held below
            return one;
        });
        var system = ActorSystem.Create("engine", DurableWorkflows.CreateSetup(TestSupport.Engine.Config(_folder.Database)));
        try
        {
            DurableWorkflows.Start(system, registry, null, TimeProvider.System, new RuntimeHooks
            {
                BeforeIdleFlush = _ =>
                {
                    flushHeld.TrySetResult();
                    return never.Task;
                },
            });
            await DurableWorkflows.Client(system).StartAsync<string, string>("then-waits", "g-1", "x").WaitAsync(Timeout);
            await flushHeld.Task.WaitAsync(Timeout);
        }
        finally
        {
            await system.Terminate().WaitAsync(Timeout);
        }

        var (next, _) = TestSupport.Engine.Start(_folder.Database, registry, extraHocon: "durable-actors.recover-on-start = off");
        try
        {
            var step = Assert.Single((await DurableWorkflows.GetStatusAsync(next, "g-1"))!.Steps);
            Assert.Equal((StepStatus.Completed, "\"1\""), (step.Status, step.ResultJson));
            Assert.Equal(1, Volatile.Read(ref runs));
        }
        finally
        {
            await next.Terminate().WaitAsync(Timeout);
        }
    }

    public void Dispose() => _folder.Dispose();
}
