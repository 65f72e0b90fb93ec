using Akka.Actor;
using Akka.Event;
using Durable.Actors.Runtime;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary><c>release-memory-when-idle</c>: once the host is idle after some work, the GC hands its memory back once.</summary>
public sealed class IdleMemorySpec : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Release_OnlyOnceNoWorkflowWasInMemoryForItsTime_AfterWork_AndOncePerIdlePeriod()
    {
        var clock = new VirtualClock(DateTimeOffset.UnixEpoch);
        using var memory = new IdleMemory(TimeSpan.FromSeconds(30), clock, NoLogger.Instance);
        AllocateEnough();

        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, memory.Releases); // no work since the host started
        memory.Changed(2);
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, memory.Releases); // two workflows in memory
        memory.Changed(-1);
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, memory.Releases); // one still is
        memory.Changed(-1);
        clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(0, memory.Releases); // idle for less than 30 s
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, memory.Releases);
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, memory.Releases); // no work since

        memory.Changed(1);
        AllocateEnough();
        memory.Changed(-1);
        clock.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(2, memory.Releases);
    }

    [Fact]
    public async Task Host_WithTheSettingOn_HandsMemoryBackOnceItsWorkflowsPassivated()
    {
        var registry = new WorkflowRegistry().Add<string, int>("allocates", async (ctx, _) =>
            await ctx.StepAsync("allocate", () => AllocateEnough()));
        var (system, _) = TestSupport.Engine.Start(_folder.Database, registry, extraHocon: """
            durable-actors.release-memory-when-idle = 1s
            durable-actors.passivate-after = 0s
            akka.loglevel = INFO
            """);
        try
        {
            var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            system.EventStream.Subscribe(system.ActorOf(Props.Create(() => new LogWatcher("handed back to the OS", released))), typeof(Info));
            var handle = await DurableWorkflows.Client(system).StartAsync<string, int>("allocates", "a-1", "x");
            Assert.Equal(1, await handle.GetResultAsync().WaitAsync(Timeout));

            await released.Task.WaitAsync(Timeout);
        }
        finally
        {
            await system.Terminate();
        }
    }

    private static int AllocateEnough()
    {
        GC.KeepAlive(new byte[(int)IdleMemory.AllocatedBetweenReleases + 1024]);
        return 1;
    }
}
