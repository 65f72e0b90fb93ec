using Akka.Actor;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Queues;

/// <summary>
/// Two hosts on one SQLite file (a <c>serve</c> and a <c>dashboard</c>, say): one of them admits the queue's
/// workflows, so that its limit counts the workflows of both; when it stops, the other takes over.
/// </summary>
public sealed class SharedFileSpec(ITestOutputHelper output) : EngineSpec(output, Refresh)
{
    private const string Refresh = "durable-actors.queue-dispatch.refresh-interval = 200ms";

    private readonly AtOnce _atOnce = new();

    /// <summary><c>job</c> runs one step of 20 ms that counts how many run at once, on both hosts.</summary>
    private WorkflowRegistry Registry() => new WorkflowRegistry()
        .Add<string, string>("job", async (ctx, input) => await ctx.StepAsync("work", ct => _atOnce.RunAsync(async () =>
        {
            await Task.Delay(20, ct);
            return input;
        }, "all")))
        .AddQueue(new QueueOptions("q") { Concurrency = 1 });

    [Fact]
    public async Task TwoHostsOnOneFile_OneAdmits_SoTheLimitCountsBoth_AndTheOtherTakesOverWhenItStops()
    {
        var first = ActorSystem.Create("first", DurableWorkflows.CreateSetup(TestSupport.Engine.Config(Folder.Database, Refresh)));
        try
        {
            DurableWorkflows.Start(first, Registry());
            StartEngine(Registry());
            var clients = new[] { DurableWorkflows.Client(first), DurableWorkflows.Client(Sys) };
            var ids = Enumerable.Range(0, 12).Select(i => $"w{i}").ToList();
            foreach (var (id, i) in ids.Select((id, i) => (id, i)))
                await clients[i % 2].EnqueueAsync<string, string>("job", id, id, new EnqueueOptions("q"));
            await Polling.UntilAsync(async () => (await Task.WhenAll(ids.Select(StatusAsync))).All(s => s == WorkflowRunStatus.Completed),
                "all twelve completed", RunTimeout);
            Assert.Equal(1, _atOnce.Most("all"));
        }
        finally
        {
            await first.Terminate();
        }

        // The host that admitted is gone: the other takes the file's queue lock at its next refresh and admits.
        await DurableWorkflows.Client(Sys).EnqueueAsync<string, string>("job", "after", "after", new EnqueueOptions("q"));
        await Polling.UntilAsync(async () => await StatusAsync("after") == WorkflowRunStatus.Completed, "the one enqueued after completed", RunTimeout);
    }

    [Fact]
    public async Task AnEnqueueAfterTheLastEntryWasRemoved_IsStillSeenByTheHostThatAdmits()
    {
        // The host that admits learns of the other's enqueues by reading the entries numbered after the last it read.
        var held = new TaskCompletionSource();
        var begun = new TaskCompletionSource();
        WorkflowRegistry HeldJob() => new WorkflowRegistry()
            .Add<string, string>("job", async (ctx, input) => await ctx.StepAsync("work", async ct =>
            {
                begun.TrySetResult();
                await held.Task.WaitAsync(ct);
                return input;
            }))
            .AddQueue(new QueueOptions("q") { Concurrency = 1 });
        var first = ActorSystem.Create("first", DurableWorkflows.CreateSetup(TestSupport.Engine.Config(Folder.Database, Refresh)));
        try
        {
            DurableWorkflows.Start(first, HeldJob());
            held.SetResult();
            // Admitted, so the first host holds the queue lock before the second starts.
            await (await DurableWorkflows.Client(first).EnqueueAsync<string, string>("job", "w0", "w0", new EnqueueOptions("q"))).GetResultAsync();
            StartEngine(HeldJob());
            (held, begun) = (new TaskCompletionSource(), new TaskCompletionSource());

            // w1 is enqueued through the second host, so the first read its entry (the last one) before it ran it.
            await DurableWorkflows.Client(Sys).EnqueueAsync<string, string>("job", "w1", "w1", new EnqueueOptions("q"));
            await begun.Task.WaitAsync(RunTimeout);
            held.SetResult();
            await Polling.UntilAsync(async () => await StatusAsync("w1") == WorkflowRunStatus.Completed && EntriesLeft() == 0,
                "w1 completed and its entry removed", RunTimeout);

            // Numbered after w1's though w1's entry is gone (a plain SQLite rowid would give it w1's number again).
            await DurableWorkflows.Client(Sys).EnqueueAsync<string, string>("job", "w2", "w2", new EnqueueOptions("q"));
            await Polling.UntilAsync(async () => await StatusAsync("w2") == WorkflowRunStatus.Completed, "w2 completed", RunTimeout);
        }
        finally
        {
            await first.Terminate();
        }
    }

    private long EntriesLeft()
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Folder.Database}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM durable_queue_entries";
        return (long)command.ExecuteScalar()!;
    }

    private async Task<WorkflowRunStatus?> StatusAsync(string id) => (await DurableWorkflows.GetStatusAsync(Sys, id))?.Status;
}
