using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.Cluster;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Postgres;

/// <summary>A node whose PostgreSQL server stops mid-run and comes back, on a private server of its own.</summary>
public sealed class OutageSpec : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private ActorSystem? _system;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_system is not null)
            await _system.Terminate().WaitAsync(Timeout);
    }

    [Fact]
    public async Task PostgresStoppedMidRun_NothingIsLost_TheWorkflowGoesOnWhenItIsBack()
    {
        using var server = PostgresServer.StartPrivate();
        var counter = new EffectRecorder();
        var inFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new WorkflowRegistry().Add<string, int>("gated", async (ctx, _) =>
        {
            var first = await ctx.StepAsync("first", async ct =>
            {
                counter.Record("first");
                inFirst.TrySetResult();
                await gate.Task.WaitAsync(ct);
                return 1;
            });
            var second = await ctx.StepAsync("second", () => { counter.Record("second"); return 2; });
            return first + second;
        });
        var node = await ClusterNodes.StartAloneAsync(server.ConnectionString, registry, "durable-actors.stale-timeout = 1h");
        _system = node.System;
        var retrying = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        node.System.EventStream.Subscribe(node.System.ActorOf(Props.Create(() => new LogWatcher("is resumed again", retrying))), typeof(Akka.Event.Warning));
        var handle = await DurableWorkflows.Client(node.System).StartAsync<string, int>("gated", "g-1", "x");
        // A caller waits all along: the handle's reads of the database fail while it is down, and it waits on.
        var result = handle.GetResultAsync();
        await inFirst.Task.WaitAsync(Timeout);

        // The database goes away while the first step runs: its completion cannot be written, the workflow's actor
        // stops, its supervisor gives up, and the bucket resumes it again later.
        server.Stop();
        gate.SetResult();
        await retrying.Task.WaitAsync(Timeout);

        // Back: the next resume writes the completion it kept and the workflow goes on, without running a step twice.
        server.Start();
        Assert.Equal(3, await result.WaitAsync(TimeSpan.FromSeconds(90)));
        Assert.Equal(3, await handle.GetResultAsync().WaitAsync(TimeSpan.FromSeconds(90)));
        Assert.Equal(1, counter.Count("first"));
        Assert.Equal(1, counter.Count("second"));
        var status = await DurableWorkflows.GetStatusAsync(node.System, "g-1");
        Assert.All(status!.Steps, s => Assert.Equal(1, s.Attempts));
    }
}
