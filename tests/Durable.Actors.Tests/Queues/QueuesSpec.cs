using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Durable.Actors.Configuration;
using Durable.Actors.Queues;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Queues;

/// <summary>
/// Queues on a real SQLite file: per-key and global concurrency, priority, deduplication, cancel of an enqueued
/// workflow (none of its code runs), not-before and rate limits under virtual time, a host restart that keeps the
/// limits, the message for actor code, and bad input.
/// </summary>
public sealed class QueuesSpec(ITestOutputHelper output) : EngineSpec(output)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    private readonly ConcurrentQueue<string> _ran = new();
    private readonly AtOnce _atOnce = new();

    /// <summary>
    /// <c>job</c> runs one step of a few milliseconds (counting how many run at once, in all and per key: its input);
    /// <c>hold</c> runs a step, then waits for the signal <c>done</c>.
    /// </summary>
    private WorkflowRegistry Registry(params QueueOptions[] queues)
    {
        var registry = new WorkflowRegistry()
            .Add<string, string>("job", async (ctx, key) => await ctx.StepAsync("work", async ct =>
            {
                _ran.Enqueue(ctx.WorkflowId);
                return await _atOnce.RunAsync(async () =>
                {
                    await Task.Delay(5, ct);
                    return key;
                }, "all", "key:" + key);
            }))
            .Add<string, string>("sleeper", async (ctx, _) =>
            {
                await ctx.StepAsync("before", () => { _ran.Enqueue(ctx.WorkflowId + ":before"); return "x"; });
                await ctx.SleepAsync(TimeSpan.FromHours(1));
                return await ctx.StepAsync("after", () => { _ran.Enqueue(ctx.WorkflowId + ":after"); return "done"; });
            })
            .Add<string, string>("hold", async (ctx, _) =>
            {
                await ctx.StepAsync("work", () => { _ran.Enqueue(ctx.WorkflowId); return "x"; });
                return (await ctx.WaitForSignalAsync<string>("done")).Payload!;
            });
        foreach (var queue in queues)
            registry.AddQueue(queue);
        return registry;
    }

    private WorkflowClient Client => DurableWorkflows.Client(Sys);

    private async Task<WorkflowRunStatus?> StatusAsync(string id) => (await DurableWorkflows.GetStatusAsync(Sys, id))?.Status;

    private async Task AwaitStatusAsync(string id, WorkflowRunStatus status) =>
        await Polling.UntilAsync(async () => await StatusAsync(id) == status, $"{id} {status}", RunTimeout);

    private Task<WorkflowHandle<string>> EnqueueAsync(string id, string input, EnqueueOptions options, string type = "job") =>
        Client.EnqueueAsync<string, string>(type, id, input, options);

    [Fact]
    public async Task ReleaseSlotWhileSleeping_ALongSleepGivesTheSlotBack_AndTheWakeUpWaitsForASlot_ByDefaultTheSleeperHoldsIt()
    {
        var clock = new VirtualClock(T0);
        StartEngine(Registry(new QueueOptions("s") { Concurrency = 1, ReleaseSlotWhileSleeping = true }, new QueueOptions("h") { Concurrency = 1 }), clock: clock);
        var handles = new List<WorkflowHandle<string>>();
        foreach (var id in new[] { "s1", "s2" })
            handles.Add(await EnqueueAsync(id, "x", new EnqueueOptions("s"), type: "sleeper"));
        foreach (var id in new[] { "h1", "h2" })
            handles.Add(await EnqueueAsync(id, "x", new EnqueueOptions("h"), type: "sleeper"));

        // s1 sleeps with its slot given back, so s2 runs up to its own sleep; h1 sleeps holding its slot, h2 waits.
        await AwaitStatusAsync("s2", WorkflowRunStatus.Enqueued);
        await Polling.UntilAsync(() => _ran.Contains("s2:before") && _ran.Contains("h1:before"), "s2 and h1 before their sleeps", RunTimeout);
        Assert.Equal(WorkflowRunStatus.Enqueued, await StatusAsync("s1"));
        Assert.Contains("slot of queue 's' released", (await DurableWorkflows.GetStatusAsync(Sys, "s1"))!.WaitingFor, StringComparison.Ordinal);
        Assert.Equal(WorkflowRunStatus.Running, await StatusAsync("h1"));
        Assert.Equal(WorkflowRunStatus.Enqueued, await StatusAsync("h2"));
        Assert.DoesNotContain("h2:before", _ran);

        // Both sleeps due: the wake-ups wait for the slot, in enqueue order; h2 runs once h1 ended.
        clock.Advance(TimeSpan.FromHours(1));
        await Polling.UntilAsync(() => _ran.Contains("h2:before"), "h2 admitted after h1", RunTimeout);
        clock.Advance(TimeSpan.FromHours(1));
        foreach (var handle in handles)
            Assert.Equal("done", await handle.GetResultAsync().WaitAsync(RunTimeout));
        Assert.Equal(["s1:before", "s2:before", "s1:after", "s2:after"], _ran.Where(r => r.StartsWith('s')));
        Assert.Equal(["h1:before", "h1:after", "h2:before", "h2:after"], _ran.Where(r => r.StartsWith('h')));
    }

    [Fact]
    public async Task KeyConcurrencyOne_NeverRunsTwoOfAKeyAtOnce_AndTheQueueNeverRunsMoreThanItsConcurrency()
    {
        StartEngine(Registry(new QueueOptions("q") { Concurrency = 4, KeyConcurrency = 1 }));
        var handles = new List<WorkflowHandle<string>>();
        // Ten of each key in a row: the first four in queue order are all of k0.
        for (var i = 0; i < 60; i++)
            handles.Add(await EnqueueAsync($"w{i}", $"k{i / 10}", new EnqueueOptions("q") { Key = $"k{i / 10}" }));

        foreach (var (handle, i) in handles.Select((h, i) => (h, i)))
            Assert.Equal($"k{i / 10}", await handle.GetResultAsync());

        Assert.Equal(60, _ran.Count);
        Assert.InRange(_atOnce.Most("all"), 1, 4);
        Assert.All(Enumerable.Range(0, 6), k => Assert.Equal(1, _atOnce.Most($"key:k{k}")));
        // The ends are written a moment after the workflows' results.
        await Polling.UntilAsync(async () => await Client.Queues.GetAsync("q") is { Enqueued: 0, Running: 0 }, "an empty queue", RunTimeout);
    }

    [Fact]
    public async Task AnEnqueuedWorkflow_IsEnqueuedUntilASlotIsFree_RunsInPriorityOrder_AndIsCancelledWithoutRunning()
    {
        StartEngine(Registry(new QueueOptions("one") { Concurrency = 1 }));
        var first = await EnqueueAsync("first", "", new EnqueueOptions("one"), type: "hold");
        await AwaitStatusAsync("first", WorkflowRunStatus.Running);
        await Polling.UntilAsync(() => Task.FromResult(_ran.Contains("first")), "first's step", RunTimeout);
        await EnqueueAsync("low", "a", new EnqueueOptions("one") { Priority = 5 });
        await EnqueueAsync("dropped", "a", new EnqueueOptions("one"));
        await EnqueueAsync("high", "a", new EnqueueOptions("one") { Priority = 1 });

        var status = (await DurableWorkflows.GetStatusAsync(Sys, "low"))!;
        Assert.Equal((WorkflowRunStatus.Enqueued, "enqueued on queue 'one' (it starts when the queue admits it)"), (status.Status, status.WaitingFor));
        var listed = await DurableWorkflows.ListAsync(Sys, new WorkflowQuery { Status = WorkflowRunStatus.Enqueued });
        Assert.Equal(["low", "dropped", "high"], listed.Items.Select(w => w.WorkflowId).OrderBy(id => id == "low" ? 0 : id == "dropped" ? 1 : 2));
        var info = await Client.Queues.GetAsync("one");
        Assert.Equal((3, 1), (info.Enqueued, info.Running));

        // Pause and unpause are the queue's; a cancel ends it at once, with none of its code run.
        await Assert.ThrowsAsync<WorkflowRejectedException>(() => Client.GetHandle<string>("low").UnpauseAsync());
        await Client.GetHandle<string>("dropped").CancelAsync("not needed");
        await Assert.ThrowsAsync<WorkflowCancelledException>(() => Client.GetHandle<string>("dropped").GetResultAsync());
        Assert.Equal(WorkflowRunStatus.Cancelled, await StatusAsync("dropped"));
        await Polling.UntilAsync(async () => await Client.Queues.GetAsync("one") is { Enqueued: 2, Running: 1 }, "the cancelled one's entry gone", RunTimeout);

        await first.SignalAsync("done", "ok");
        Assert.Equal("ok", await first.GetResultAsync());
        Assert.Equal("a", await Client.GetHandle<string>("low").GetResultAsync());
        Assert.Equal(["first", "high", "low"], _ran.ToArray());
    }

    [Fact]
    public async Task ADeduplicationId_InUse_ReturnsTheFirstsHandle_AndIsFreeOnceItEnded()
    {
        StartEngine(Registry(new QueueOptions("d")));
        var first = await EnqueueAsync("d1", "x", new EnqueueOptions("d") { DeduplicationId = "invoice-7" }, type: "hold");
        var second = await EnqueueAsync("d2", "y", new EnqueueOptions("d") { DeduplicationId = "invoice-7" });
        Assert.Equal("d1", second.WorkflowId);
        Assert.Null(await StatusAsync("d2"));

        await first.SignalAsync("done", "ok");
        await first.GetResultAsync();
        await Polling.UntilAsync(async () => (await Client.Queues.GetAsync("d")).Running == 0, "d1's end seen by its queue", RunTimeout);
        var third = await EnqueueAsync("d3", "z", new EnqueueOptions("d") { DeduplicationId = "invoice-7" });
        Assert.Equal(("d3", "z"), (third.WorkflowId, await third.GetResultAsync()));
    }

    [Fact]
    public async Task NotBeforeAndRateLimits_HoldWorkflowsBackUntilTheirTime_UnderVirtualTime()
    {
        var clock = new VirtualClock(T0);
        StartEngine(Registry(new QueueOptions("r") { RateLimit = new QueueRateLimit(2, TimeSpan.FromMinutes(1)) }), clock: clock);
        for (var i = 0; i < 5; i++)
            await EnqueueAsync($"r{i}", "x", new EnqueueOptions("r"));
        await EnqueueAsync("later", "x", new EnqueueOptions("r") { Delay = TimeSpan.FromMinutes(10) });

        async Task RanAsync(int count, string when) =>
            await Polling.UntilAsync(() => Task.FromResult(_ran.Count == count), $"{count} started {when}", RunTimeout);
        await RanAsync(2, "at first");
        for (var minute = 1; minute <= 2; minute++)
        {
            // Nothing more starts within the window; a minute after the first starts, two more.
            Assert.Equal(2 * minute, _ran.Count);
            clock.Advance(TimeSpan.FromMinutes(1));
            await RanAsync(Math.Min(2 * minute + 2, 5), $"after {minute} minute(s)");
        }
        Assert.Equal(WorkflowRunStatus.Enqueued, await StatusAsync("later"));
        Assert.Equal(T0.AddMinutes(10), (await Client.Queues.GetAsync("r")).NextNotBefore);

        clock.Advance(TimeSpan.FromMinutes(8));
        await AwaitStatusAsync("later", WorkflowRunStatus.Completed);
        Assert.Equal(6, _ran.Count);
    }

    [Fact]
    public async Task ADebounce_StartsOnePeriodAfterTheLastEnqueueOfItsKey_WithTheLastInput_NoLaterThanItsLongestWait()
    {
        var clock = new VirtualClock(T0);
        StartEngine(Registry(new QueueOptions("d")), clock: clock);
        var debounce = new EnqueueOptions("d") { Key = "user-7", Debounce = new QueueDebounce(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(3)) };

        // Enqueues 40 s apart: each puts the start off, the first's handle for all; none of its code runs meanwhile.
        var first = await EnqueueAsync("d1", "a", debounce);
        for (var (i, input) = (2, 'b'); i <= 4; i++, input++)
        {
            clock.Advance(TimeSpan.FromSeconds(40));
            Assert.Equal("d1", (await EnqueueAsync($"d{i}", input.ToString(), debounce)).WorkflowId);
            Assert.Equal(WorkflowRunStatus.Enqueued, await StatusAsync("d1"));
        }
        Assert.Null(await StatusAsync("d2"));

        // 2 min in: the last enqueue was at 2:00, its period ends at 3:00, and so does the longest wait.
        clock.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(WorkflowRunStatus.Enqueued, await StatusAsync("d1"));
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal("d", await first.GetResultAsync());
        Assert.Equal(["d1"], _ran.ToArray());
        Assert.Equal("\"d\"", (await DurableWorkflows.GetStatusAsync(Sys, "d1"))!.ResultJson);

        // Once it was admitted, the next enqueue of the key begins another.
        var next = await EnqueueAsync("d5", "e", debounce);
        Assert.Equal("d5", next.WorkflowId);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("e", await next.GetResultAsync());
    }

    [Fact]
    public async Task AHostStartedAfterAStop_KeepsTheAdmittedWorkflowsSlot_AndAdmitsTheRestInOrder()
    {
        var (first, _) = TestSupport.Engine.Start(Folder.Database, Registry(new QueueOptions("s") { Concurrency = 1 }));
        var client = DurableWorkflows.Client(first);
        await client.EnqueueAsync<string, string>("hold", "h1", "", new EnqueueOptions("s"));
        await client.EnqueueAsync<string, string>("job", "h2", "a", new EnqueueOptions("s"));
        await Polling.UntilAsync(() => Task.FromResult(_ran.Contains("h1")), "h1's step", RunTimeout);
        await Polling.UntilAsync(async () => await TestSupport.Engine.StepCompletedAsync(first, "h1", "work"), "h1's step recorded", RunTimeout);
        await first.Terminate();

        // An enqueue whose start a crash cut short: its entry alone (written first) is on the file.
        var store = new QueueStore(new Storage.SqliteSideTables($"Data Source={Folder.Database}", TimeSpan.FromSeconds(5)));
        await store.AddAsync(new QueueEntry(0, "h3", "s", null, 0, T0, null, "job", "\"b\"", null), null);

        StartEngine(Registry(new QueueOptions("s") { Concurrency = 1 }));
        await AwaitStatusAsync("h1", WorkflowRunStatus.Running);
        Assert.Equal(WorkflowRunStatus.Enqueued, await StatusAsync("h2"));
        var info = await Client.Queues.GetAsync("s");
        Assert.Equal((1, 2), (info.Running, info.Enqueued));

        await Client.GetHandle<string>("h1").SignalAsync("done", "ok");
        Assert.Equal("a", await Client.GetHandle<string>("h2").GetResultAsync());
        await Polling.UntilAsync(async () => await StatusAsync("h3") == WorkflowRunStatus.Completed, "h3, started at its admission", RunTimeout);
        Assert.Equal(["h1", "h2", "h3"], _ran.ToArray());
    }

    [Fact]
    public async Task AWorkflowThatEnded_NoLongerCountsAsRunning_ThoughItsQueueEntrysEndIsNotWritten()
    {
        // A rate limit keeps an ended entry for its window; a crash after the workflow's end was committed and before
        // the dispatcher wrote the entry's end (a write of its own, in the background) leaves it not ended.
        var options = new QueueOptions("w") { RateLimit = new QueueRateLimit(5, TimeSpan.FromHours(1)) };
        var (host, _) = TestSupport.Engine.Start(Folder.Database, Registry(options));
        var handle = await DurableWorkflows.Client(host).EnqueueAsync<string, string>("job", "w1", "a", new EnqueueOptions("w"));
        Assert.Equal("a", await handle.GetResultAsync());
        await host.Terminate();
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Folder.Database}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE durable_queue_entries SET ended = 0 WHERE workflow_id = 'w1'";
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        // What `queue show` and the client read: the workflow is COMPLETED, so it holds no slot.
        var store = new QueueStore(new Storage.SqliteSideTables($"Data Source={Folder.Database}", TimeSpan.FromSeconds(5)));
        var info = QueueClient.Info(options, store.Live("w"), T0);
        Assert.Equal((0, 0), (info.Enqueued, info.Running));
    }

    [Fact]
    public async Task TheQueueTableOfAnOlderFile_IsMadeAgainWithItsEntries_SoANewEntryNeverTakesTheNumberOfOneRemoved()
    {
        // The table as earlier versions made it: its key a plain rowid.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Folder.Database}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE durable_queue_entries (seq INTEGER NOT NULL PRIMARY KEY, workflow_id TEXT NOT NULL, queue TEXT NOT NULL,
                    partition_key TEXT NULL, priority INTEGER NOT NULL, enqueued_at INTEGER NOT NULL, not_before INTEGER NULL, dedup_id TEXT NULL,
                    workflow_type TEXT NOT NULL, input TEXT NOT NULL, timeout INTEGER NULL, admitted_at INTEGER NULL, ended INTEGER NOT NULL DEFAULT 0,
                    debounced INTEGER NOT NULL DEFAULT 0, debounce_until INTEGER NULL);
                CREATE UNIQUE INDEX durable_queue_entries_live ON durable_queue_entries (workflow_id) WHERE ended = 0;
                INSERT INTO durable_queue_entries (seq, workflow_id, queue, priority, enqueued_at, dedup_id, workflow_type, input)
                VALUES (7, 'w7', 'w', 0, 0, 'd7', 'job', '"a"');
                """;
            command.ExecuteNonQuery();
        }
        var store = new QueueStore(new Storage.SqliteSideTables($"Data Source={Folder.Database}", TimeSpan.FromSeconds(5)));

        var loaded = Assert.Single(store.Load(0, T0));
        Assert.Equal((7, "w7", "\"a\""), (loaded.Seq, loaded.WorkflowId, loaded.InputJson));
        store.Ended([(7, false)]);
        var entry = new QueueEntry(0, "w8", "w", null, 0, T0, null, "job", "\"b\"", null);
        var (added, isNew) = await store.AddAsync(entry, "d7");
        Assert.True(isNew);
        Assert.Equal(8, added.Seq);
        // Its indexes came with it: the same workflow is not enqueued twice.
        Assert.False((await store.AddAsync(entry with { WorkflowId = "w8" }, null)).Added);
    }

    [Fact]
    public async Task TheEnqueueMessage_RepliesOnceDurable_OrRejectsWithTheReason()
    {
        var coordinator = StartEngine(Registry(new QueueOptions("m")));
        coordinator.Tell(new EnqueueWorkflow("m1", "job", "\"x\"", new EnqueueOptions("m") { Key = "k" }), TestActor);
        Assert.Equal("m1", ExpectMsg<WorkflowEnqueued>(RunTimeout).WorkflowId);
        Assert.Equal("x", await Client.GetHandle<string>("m1").GetResultAsync());

        coordinator.Tell(new EnqueueWorkflow("m2", "job", "\"x\"", new EnqueueOptions("nope")), TestActor);
        Assert.Equal("Unknown queue 'nope' (declared: m).", ExpectMsg<WorkflowRejected>(RunTimeout).Reason);
        coordinator.Tell(new EnqueueWorkflow("m3", "nothing", "\"x\"", new EnqueueOptions("m")), TestActor);
        Assert.StartsWith("unknown workflow type 'nothing'", ExpectMsg<WorkflowRejected>(RunTimeout).Reason);
        // Nothing left behind: m1's end seen by its queue, no entry of the rejected ones.
        await Polling.UntilAsync(async () => await Client.Queues.GetAsync("m") is { Enqueued: 0, Running: 0 }, "an empty queue", RunTimeout);
        Assert.Null(await StatusAsync("m3"));
    }

    [Fact]
    public async Task BadInput_IsRefusedWithAMessageThatNamesIt_AndNothingIsEnqueued()
    {
        StartEngine(Registry(new QueueOptions("b")));
        async Task RefusedAsync(EnqueueOptions options, string message) =>
            Assert.Equal(message, (await Assert.ThrowsAsync<ArgumentException>(() => EnqueueAsync("bad", "x", options))).Message);
        await RefusedAsync(new EnqueueOptions("b") { Priority = -1 }, "Queue 'b': a priority is 0 or more, not -1.");
        await RefusedAsync(new EnqueueOptions("b") { Delay = TimeSpan.FromMinutes(-1) }, "Queue 'b': a delay is zero or more, not -00:01:00.");
        await RefusedAsync(new EnqueueOptions("b") { Delay = TimeSpan.FromMinutes(1), NotBefore = T0 }, "Queue 'b': give a delay or a not-before time, not both.");
        await RefusedAsync(new EnqueueOptions("b") { Key = "" }, "Queue 'b': a key is 1 to 200 characters.");
        await RefusedAsync(new EnqueueOptions("nope"), "Unknown queue 'nope' (declared: b).");
        await RefusedAsync(new EnqueueOptions("b") { Debounce = new QueueDebounce(TimeSpan.FromMinutes(1)) }, "Queue 'b': a debounce needs a key (the enqueues it gathers).");
        await RefusedAsync(new EnqueueOptions("b") { Key = "k", Debounce = new QueueDebounce(TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(1)) },
            "Queue 'b': a debounce's longest wait (00:01:00) must be at least its period (00:02:00).");
        Assert.Null(await StatusAsync("bad"));
        Assert.Equal((0, 0), ((await Client.Queues.GetAsync("b")).Enqueued, (await Client.Queues.GetAsync("b")).Running));

        Assert.Equal("Queue 'z': concurrency must be at least 1, not 0.",
            Assert.Throws<ArgumentException>(() => new WorkflowRegistry().AddQueue(new QueueOptions("z") { Concurrency = 0 })).Message);
        Assert.Equal("Queue 'z': the rate limit's period must be more than zero, not 00:00:00.",
            Assert.Throws<ArgumentException>(() => new WorkflowRegistry().AddQueue(new QueueOptions("z") { RateLimit = new QueueRateLimit(1, TimeSpan.Zero) })).Message);
        Assert.StartsWith("A queue name is 1 to 64", Assert.Throws<ArgumentException>(() => new QueueOptions("9 lives")).Message);
        var hocon = ConfigurationFactory.ParseString("durable-actors.queues.pay { concurrency = 5, key-concurrency = -1 }").WithFallback(DurableSettings.Reference);
        Assert.Equal("durable-actors.queues.pay: Queue 'pay': key concurrency must be at least 1, not -1.",
            Assert.Throws<ConfigurationException>(() => DurableSettings.Create(hocon)).Message);
        var good = ConfigurationFactory.ParseString("durable-actors.queues { pay { concurrency = 5, rate-limit { starts = 10, period = 1s } }\n open {} }")
            .WithFallback(DurableSettings.Reference);
        var declared = DurableSettings.Create(good).Queues;
        Assert.Equal(new QueueOptions("pay") { Concurrency = 5, RateLimit = new QueueRateLimit(10, TimeSpan.FromSeconds(1)) }, declared["pay"]);
        Assert.Equal(new QueueOptions("open"), declared["open"]);
    }
}
