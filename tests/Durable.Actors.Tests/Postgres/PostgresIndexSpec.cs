using Akka.Actor;
using Durable.Actors.Cluster;
using Durable.Actors.Cluster.Storage;
using Durable.Actors.Inspection;
using Durable.Actors.Journal;
using Durable.Actors.Runtime;
using Durable.Actors.Storage;
using Durable.Actors.Testing;
using Durable.Actors.Tests.Cluster;
using Durable.Actors.Tests.TestSupport;
using Npgsql;
using Xunit;

namespace Durable.Actors.Tests.Postgres;

/// <summary>
/// The workflow index on PostgreSQL: written by the cluster's own journal in the events' transaction, read by listing,
/// counts and recovery, built for a database written before it existed. Each test in a fresh database.
/// </summary>
public sealed class PostgresIndexSpec : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly List<ActorSystem> _systems = [];
    private string _postgres = "";

    public async Task InitializeAsync() => _postgres = await PostgresServer.NewDatabaseAsync();

    public async Task DisposeAsync()
    {
        foreach (var system in Enumerable.Reverse(_systems))
            await system.Terminate().WaitAsync(Timeout);
    }

    private async Task<(ActorSystem System, IActorRef Region)> NodeAsync(WorkflowRegistry registry, string extraHocon = "")
    {
        var node = await ClusterNodes.StartAloneAsync(_postgres, registry, extraHocon);
        _systems.Add(node.System);
        return node;
    }

    private async Task StopAsync(ActorSystem system)
    {
        await system.Terminate().WaitAsync(Timeout);
        _systems.Remove(system);
    }

    /// <summary>Every shape the index has a column for: steps, a sleep, a signal wait, an end of each kind.</summary>
    private static WorkflowRegistry Shapes() => new WorkflowRegistry()
        .Add<int, int>("steps", async (ctx, n) =>
        {
            var sum = 0;
            for (var i = 0; i < n; i++)
            {
                var k = i;
                sum += await ctx.StepAsync("step", () => k);
            }
            return sum;
        })
        .Add<string, string>("sleeper", async (ctx, _) =>
        {
            await ctx.StepAsync("before", () => "x");
            await ctx.SleepAsync(TimeSpan.FromHours(1));
            return "woke";
        })
        .Add<string, string>("waiter", async (ctx, _) =>
        {
            var signal = await ctx.WaitForSignalAsync<string>("go");
            return await ctx.StepAsync("after", () => signal.Payload!);
        })
        .Add<string, string>("failer", async (ctx, _) =>
            await ctx.StepAsync<string>("boom", () => throw new InvalidOperationException("it broke"), RetryPolicy.None))
        .Add<int, int>("tagged", async (ctx, n) =>
        {
            await ctx.SetAttributesAsync(new Dictionary<string, object?>
            {
                ["customer"] = n % 2 == 0 ? "acme" : "globex", ["amount"] = n * 10, ["due"] = new DateTimeOffset(2026, 12, n, 12, 0, 0, TimeSpan.Zero),
            });
            return await ctx.StepAsync("work", () => n);
        });

    [Fact]
    public async Task Index_FollowsAWorkflow_ThroughStepsASleepASignalWaitCompletionFailureAndCancellation()
    {
        var (system, region) = await NodeAsync(Shapes());

        Assert.IsType<WorkflowCompleted>(await region.Ask<object>(new StartWorkflow("s-1", "steps", "3"), Timeout));
        Assert.IsType<WorkflowFailed>(await region.Ask<object>(new StartWorkflow("f-1", "failer", "\"x\""), Timeout));
        var sleeping = Assert.IsType<WorkflowWaiting>(await region.Ask<object>(new StartWorkflow("z-1", "sleeper", "\"x\""), Timeout));
        Assert.IsType<WorkflowWaiting>(await region.Ask<object>(new StartWorkflow("w-1", "waiter", "\"x\""), Timeout));

        var rows = await IndexAsync(system);
        var steps = rows["s-1"];
        Assert.Equal(("steps", "completed", 3, 3, 0), (steps.WorkflowType, steps.Status, steps.StepCount, steps.CompletedSteps, steps.FailedAttempts));
        Assert.NotNull(steps.EndedAt);
        var failed = rows["f-1"];
        Assert.Equal(("failed", 1, 0, 1), (failed.Status, failed.StepCount, failed.CompletedSteps, failed.FailedAttempts));
        Assert.Contains("it broke", failed.Error, StringComparison.Ordinal);
        // A sleep of the top-level code: due when its timer is; a signal wait without timeout: never by time.
        var sleeper = rows["z-1"];
        Assert.Equal(("running", 1, 1), (sleeper.Status, sleeper.StepCount, sleeper.CompletedSteps));
        Assert.Equal(sleeping.Until, sleeper.WakeAt);
        Assert.Equal(WorkflowIndex.NoDueTime, rows["w-1"].WakeAt);

        // The signal ends the wait and the workflow; the cancellation ends the sleep.
        await region.Ask<object>(new SignalWorkflow("w-1", "go", "\"now\""), Timeout);
        await region.Ask<object>(new CancelWorkflow("z-1", "not needed"), Timeout);
        rows = await AwaitIndexAsync(system, r => r["w-1"].Status == "completed" && r["z-1"].Status == "cancelled");
        Assert.Equal((1, 1, (DateTimeOffset?)null), (rows["w-1"].StepCount, rows["w-1"].CompletedSteps, rows["w-1"].WakeAt));
        Assert.Null(rows["z-1"].WakeAt);
        Assert.Equal("cancelled: not needed", rows["z-1"].Error);

        // Every row is what folding the workflow's events gives: the index never drifts from the journal.
        Assert.Equal(await FoldJournalAsync(), (await IndexAsync(system)).Values.OrderBy(r => r.WorkflowId, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Purge_OnPostgres_DeletesTheEventsTagsAndIndexRow_AndTheIdStartsANewWorkflow()
    {
        var (system, region) = await NodeAsync(Shapes());
        Assert.IsType<WorkflowCompleted>(await region.Ask<object>(new StartWorkflow("p-1", "steps", "2"), Timeout));
        Assert.IsType<WorkflowWaiting>(await region.Ask<object>(new StartWorkflow("p-2", "waiter", "\"x\""), Timeout));

        Assert.IsType<WorkflowPurged>(await region.Ask<object>(new PurgeWorkflow("p-1"), Timeout));
        Assert.IsType<WorkflowRejected>(await region.Ask<object>(new PurgeWorkflow("p-2"), Timeout));

        Assert.Equal(["p-2"], (await IndexAsync(system)).Keys);
        await using (var connection = new NpgsqlConnection(_postgres))
        {
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand(
                "SELECT (SELECT COUNT(*) FROM journal WHERE persistence_id = 'workflow-p-1') + (SELECT COUNT(*) FROM tags WHERE persistence_id = 'workflow-p-1')", connection);
            Assert.Equal(0L, await count.ExecuteScalarAsync());
        }
        Assert.Equal("3", Assert.IsType<WorkflowCompleted>(await region.Ask<object>(new StartWorkflow("p-1", "steps", "3"), Timeout)).ResultJson);
        // The writer's purge of the ended ones (the sweep's on one machine) keeps a running workflow and an unknown id.
        Assert.IsType<WorkflowCompleted>(await region.Ask<object>(new StartWorkflow("p-3", "steps", "1"), Timeout));
        Assert.Equal(["p-3"], await Storage.JournalAccess.Get(system).Current!.Writer.PurgeEndedAsync(["p-3", "p-2", "nope"]));
        Assert.Equal(["p-1", "p-2"], (await IndexAsync(system)).Keys.Order(StringComparer.Ordinal));
        Assert.Equal(await FoldJournalAsync(), (await IndexAsync(system)).Values.OrderBy(r => r.WorkflowId, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Attributes_OnPostgres_FilterListsAndPurges_AndAreBuiltFromTheJournalWhenMissing()
    {
        var (system, region) = await NodeAsync(Shapes());
        for (var n = 1; n <= 4; n++)
            Assert.IsType<WorkflowCompleted>(await region.Ask<object>(new StartWorkflow($"t-{n}", "tagged", $"{n}"), Timeout));

        async Task<string[]> ListAsync(params AttributeFilter[] filters) =>
            (await DurableWorkflows.ListAsync(system, new WorkflowQuery { Attributes = filters })).Items.Select(i => i.WorkflowId).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["t-2", "t-4"], await ListAsync(AttributeFilter.Equal("customer", "acme")));
        Assert.Equal(["t-3", "t-4"], await ListAsync(AttributeFilter.Parse("amount>=30")));
        Assert.Equal(["t-1", "t-3"], await ListAsync(AttributeFilter.Parse("due<2026-12-04"), AttributeFilter.Parse("customer>b")));
        Assert.Empty(await ListAsync(AttributeFilter.Parse("amount=\"10\"")));
        var written = await AttributeRowsAsync();
        Assert.Equal(12, written.Count);

        // A database whose attributes table is missing gets it built from the journal, equal to what was written.
        await ExecuteAsync("DROP TABLE workflow_attributes");
        await using (var connection = new NpgsqlConnection(_postgres))
        {
            await connection.OpenAsync();
            Assert.True(await PostgresSchema.EnsureAsync(connection, CancellationToken.None));
        }
        Assert.Equal(written, await AttributeRowsAsync());

        // A purge by attribute deletes the workflows' attributes with their events.
        var purged = await WorkflowClient.Of(system).PurgeAsync(new WorkflowQuery { Attributes = [AttributeFilter.Equal("customer", "acme")] });
        Assert.Equal(["t-2", "t-4"], purged.Order(StringComparer.Ordinal));
        Assert.Equal(["t-1", "t-3"], (await AttributeRowsAsync()).Select(r => r.Split(' ')[0]).Distinct());
    }

    /// <summary>Every row of <c>workflow_attributes</c> as text, ordered by workflow and name.</summary>
    private async Task<List<string>> AttributeRowsAsync()
    {
        await using var connection = new NpgsqlConnection(_postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT workflow_id || ' ' || name || ' ' || kind || ' ' || coalesce(text_value, num_value::text) FROM workflow_attributes ORDER BY workflow_id, name", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(reader.GetString(0));
        return rows;
    }

    [Fact]
    public async Task ListPagesAndCounts_OnACluster_ComeFromTheIndex()
    {
        var (system, region) = await NodeAsync(Shapes());
        for (var i = 0; i < 5; i++)
            Assert.IsType<WorkflowCompleted>(await region.Ask<object>(new StartWorkflow($"done-{i}", "steps", "1"), Timeout));
        Assert.IsType<WorkflowWaiting>(await region.Ask<object>(new StartWorkflow("open-1", "waiter", "\"x\""), Timeout));

        // Counts by status, as the dashboard shows them (a journal without an index has none).
        var counts = await DurableWorkflows.CountByStatusAsync(system);
        Assert.Equal(5, counts![WorkflowRunStatus.Completed]);
        Assert.Equal(1, counts[WorkflowRunStatus.Running]);

        // Pages of two, newest first, through the cursor.
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await DurableWorkflows.ListAsync(system, new WorkflowQuery { Limit = 2, After = cursor });
            Assert.True(page.Items.Count <= 2);
            seen.AddRange(page.Items.Select(i => i.WorkflowId));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Equal(["open-1", "done-4", "done-3", "done-2", "done-1", "done-0"], seen);
        var running = await DurableWorkflows.ListAsync(system, new WorkflowQuery { Status = WorkflowRunStatus.Running });
        Assert.Equal("open-1", Assert.Single(running.Items).WorkflowId);
        var done = await DurableWorkflows.ListAsync(system, new WorkflowQuery { IdPrefix = "done-", Limit = 100 });
        Assert.Equal(["done-4", "done-3", "done-2", "done-1", "done-0"], done.Items.Select(i => i.WorkflowId));
        // What the retention sweep reads: the ended ones of a status, oldest first.
        Assert.Equal(["done-0", "done-1", "done-2"],
            await JournalReader.ExpiredAsync(system, WorkflowRunStatus.Completed, DateTimeOffset.UtcNow.AddMinutes(1), 3, CancellationToken.None));
        Assert.Empty(await JournalReader.ExpiredAsync(system, WorkflowRunStatus.Completed, DateTimeOffset.UtcNow.AddHours(-1), 3, CancellationToken.None));

        // The index row is what lists a workflow: without it the workflow's events are still there (its status reads
        // them), but neither the list nor the counts show it.
        await ExecuteAsync("DELETE FROM workflow_index WHERE workflow_id = 'done-2'");
        Assert.Equal(WorkflowRunStatus.Completed, (await DurableWorkflows.GetStatusAsync(system, "done-2"))!.Status);
        var all = await DurableWorkflows.ListAsync(system, new WorkflowQuery { Limit = 100 });
        Assert.DoesNotContain("done-2", all.Items.Select(i => i.WorkflowId));
        Assert.Equal(4, (await DurableWorkflows.CountByStatusAsync(system))![WorkflowRunStatus.Completed]);
    }

    [Fact]
    public async Task OldDatabase_WithoutTheIndex_GetsItBuiltOnce_FromTheJournal()
    {
        // Written by a node of before: Akka.Persistence.Sql's own journal, no index.
        const string before = """
            durable-actors.sql.journal-class = "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql"
            """;
        var (old, oldRegion) = await NodeAsync(Shapes(), before);
        Assert.IsType<WorkflowCompleted>(await oldRegion.Ask<object>(new StartWorkflow("old-done", "steps", "2"), Timeout));
        Assert.IsType<WorkflowFailed>(await oldRegion.Ask<object>(new StartWorkflow("old-failed", "failer", "\"x\""), Timeout));
        Assert.IsType<WorkflowWaiting>(await oldRegion.Ask<object>(new StartWorkflow("old-waiting", "waiter", "\"x\""), Timeout));
        await StopAsync(old);
        Assert.False(await TableExistsAsync("workflow_index"));

        // Nodes starting at once: one of them builds it, in one transaction; the others find it built.
        var built = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            await using var connection = new NpgsqlConnection(_postgres);
            await connection.OpenAsync();
            return await PostgresSchema.EnsureAsync(connection, CancellationToken.None);
        }));
        Assert.Equal(1, built.Count(b => b));
        var expected = await FoldJournalAsync();

        // The new node reads it and keeps it: the waiting workflow, signalled now, completes in it.
        var (system, region) = await NodeAsync(Shapes());
        Assert.Equal(expected, (await IndexAsync(system)).Values.OrderBy(r => r.WorkflowId, StringComparer.Ordinal));
        var counts = await DurableWorkflows.CountByStatusAsync(system);
        Assert.Equal((1, 1, 1), (counts![WorkflowRunStatus.Completed], counts[WorkflowRunStatus.Failed], counts[WorkflowRunStatus.Running]));
        await region.Ask<object>(new SignalWorkflow("old-waiting", "go", "\"later\""), Timeout);
        var rows = await AwaitIndexAsync(system, r => r["old-waiting"].Status == "completed");
        Assert.Equal(await FoldJournalAsync(), rows.Values.OrderBy(r => r.WorkflowId, StringComparer.Ordinal));
    }

    [Fact]
    public async Task DuplicateSequenceNumber_FailsOnlyItsOwnWrite_TheOthersOfItsTransactionAreCommitted()
    {
        await using var writer = PostgresJournalStore.Writer(_postgres).Writer;
        await writer.WriteAsync([Row("p-1", 1), Row("p-1", 2)]);

        // Another session holds the journal: the next write waits in its commit, and the writes queued meanwhile
        // share the transaction after it.
        await using var holder = new NpgsqlConnection(_postgres);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockJournal = new NpgsqlCommand("LOCK TABLE journal IN EXCLUSIVE MODE", holder, hold))
            await lockJournal.ExecuteNonQueryAsync();
        var first = writer.WriteAsync([Row("p-2", 1)]);
        await AwaitAsync(async () => await ScalarAsync("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'journal'::regclass") > 0);
        var good = writer.WriteAsync([Row("p-3", 1), Row("p-3", 2)]);
        // p-1's sequence number 2 is taken (another incarnation wrote it): this write fails, all of it (3 too).
        var duplicate = writer.WriteAsync([Row("p-1", 3), Row("p-1", 2)]);
        var alsoGood = writer.WriteAsync([Row("p-4", 1)]);
        await hold.CommitAsync();

        await first.WaitAsync(Timeout);
        await good.WaitAsync(Timeout);
        await alsoGood.WaitAsync(Timeout);
        var error = await Assert.ThrowsAsync<PostgresException>(() => duplicate.WaitAsync(Timeout));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, error.SqlState);
        Assert.Equal(2, await ScalarAsync("SELECT count(*) FROM journal WHERE persistence_id = 'p-1'"));
        Assert.Equal(2, await ScalarAsync("SELECT count(*) FROM journal WHERE persistence_id = 'p-3'"));
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM journal WHERE persistence_id = 'p-4'"));
        // p-1's first write, p-2's, then p-3's and p-4's in one transaction (the duplicate's attempt rolled back).
        Assert.Equal(3, writer.Transactions);
    }

    [Fact]
    public async Task NodeStart_ResumesTheRunningWorkflowsOfTheIndex_EachBucketReadingItsOwn()
    {
        // Never completed: the step is still running on the first node when it stops.
        var hang = new TaskCompletionSource();
        var inStep = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var counter = new EffectRecorder();
        WorkflowRegistry Registry(bool hangs) => Shapes().Add<string, string>("gated", async (ctx, _) =>
            await ctx.StepAsync("work", async ct =>
            {
                counter.Record("work");
                if (hangs)
                {
                    inStep.TrySetResult();
                    await hang.Task;
                }
                return "done";
            }));

        var (first, firstRegion) = await NodeAsync(Registry(hangs: true));
        firstRegion.Tell(new StartWorkflow("gated-1", "gated", "\"x\""), ActorRefs.NoSender);
        for (var i = 0; i < 20; i++)
            Assert.IsType<WorkflowWaiting>(await firstRegion.Ask<object>(new StartWorkflow($"sleep-{i}", "sleeper", "\"x\""), Timeout));
        await inStep.Task.WaitAsync(Timeout);
        await StopAsync(first);

        // A node started later resumes the workflow left in its step, with no request: its bucket read it from the index.
        var (system, _) = await NodeAsync(Registry(hangs: false));
        await AwaitIndexAsync(system, r => r["gated-1"].Status == "completed");
        Assert.Equal(2, counter.Count("work"));

        // Each bucket reads only its own running workflows, and all buckets together read them all.
        var index = new PostgresWorkflowIndex(system);
        var buckets = new Buckets(32);
        var all = (await index.RunningAsync(null, CancellationToken.None)).Select(w => w.WorkflowId).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(20, all.Count);
        var union = new List<string>();
        for (var bucket = 0; bucket < buckets.Count; bucket++)
        {
            var mine = await index.RunningAsync(new RecoveryPartition(bucket, buckets.Count), CancellationToken.None);
            Assert.All(mine, w => Assert.Equal(bucket, buckets.Of(w.WorkflowId)));
            union.AddRange(mine.Select(w => w.WorkflowId));
        }
        Assert.Equal(all, union.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task SqlStorage_OnAnotherProvider_KeepsThePluginsJournal_AndReadsTheWholeJournal()
    {
        using var folder = new TempFolder();
        var config = Akka.Configuration.ConfigurationFactory.ParseString($"""
            durable-actors.storage = sql
            durable-actors.sql.provider-name = "SQLite.MS"
            durable-actors.sql.connection-string = "Data Source={folder.File("plain.db")}"
            """);
        // Cluster mode adds its PostgreSQL journal and index only on PostgreSQL.
        Assert.True(DurableCluster.PostgresStorage(config).IsEmpty);
        Assert.False(DurableCluster.PostgresStorage(Akka.Configuration.Config.Empty).IsEmpty);

        using var system = ActorSystem.Create("plain", DurableWorkflows.CreateSetup(config));
        var coordinator = DurableWorkflows.Start(system, Shapes());
        Assert.IsType<WorkflowCompleted>(await coordinator.Ask<object>(new StartWorkflow("a-1", "steps", "2"), Timeout));
        Assert.IsType<WorkflowWaiting>(await coordinator.Ask<object>(new StartWorkflow("b-1", "waiter", "\"x\""), Timeout));

        Assert.Null(WorkflowIndexSources.For(system));
        Assert.Null(await DurableWorkflows.CountByStatusAsync(system));
        var page = await DurableWorkflows.ListAsync(system, new WorkflowQuery());
        Assert.Equal(["b-1", "a-1"], page.Items.Select(i => i.WorkflowId));
        Assert.Equal(["b-1"], await DurableWorkflows.GetPendingAsync(system));
        // Attributes filter by a fold of the journal too.
        Assert.IsType<WorkflowCompleted>(await coordinator.Ask<object>(new StartWorkflow("t-2", "tagged", "2"), Timeout));
        Assert.IsType<WorkflowCompleted>(await coordinator.Ask<object>(new StartWorkflow("t-3", "tagged", "3"), Timeout));
        var acme = await DurableWorkflows.ListAsync(system, new WorkflowQuery { Attributes = [AttributeFilter.Equal("customer", "acme"), AttributeFilter.Parse("amount<=20")] });
        Assert.Equal(["t-2"], acme.Items.Select(i => i.WorkflowId));
        await system.Terminate().WaitAsync(Timeout);
    }

    private static JournalRow Row(string persistenceId, long sequenceNr) =>
        new(persistenceId, sequenceNr, DateTime.UtcNow.Ticks, [1, 2, 3], "m", 1, "test", []);

    private static async Task<Dictionary<string, WorkflowIndexRow>> IndexAsync(ActorSystem system) =>
        (await ((PostgresWorkflowIndex)WorkflowIndexSources.For(system)!).AllAsync(CancellationToken.None)).ToDictionary(r => r.WorkflowId, StringComparer.Ordinal);

    private static async Task<Dictionary<string, WorkflowIndexRow>> AwaitIndexAsync(ActorSystem system, Func<Dictionary<string, WorkflowIndexRow>, bool> condition)
    {
        Dictionary<string, WorkflowIndexRow> rows = [];
        await AwaitAsync(async () =>
        {
            rows = await IndexAsync(system);
            try
            {
                return condition(rows);
            }
            catch (KeyNotFoundException)
            {
                return false;
            }
        });
        return rows;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, for up to a minute.</summary>
    private static async Task AwaitAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("The condition did not hold within a minute.");
            await Task.Delay(100);
        }
    }

    /// <summary>The index rows that folding the journal's workflow events gives, ordered by id.</summary>
    private async Task<List<WorkflowIndexRow>> FoldJournalAsync()
    {
        var rows = new Dictionary<string, WorkflowIndexRow?>(StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(_postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT persistence_id, message, manifest FROM journal WHERE identifier = $1 ORDER BY persistence_id, sequence_number", connection);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = JournalEventSerializer.Id });
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var id = reader.GetString(0)[WorkflowActor.PersistenceIdPrefix.Length..];
            rows[id] = WorkflowIndex.Apply(rows.GetValueOrDefault(id), id, JournalEventSerializer.Read((byte[])reader.GetValue(1), reader.GetString(2)));
        }
        return rows.Values.OfType<WorkflowIndexRow>().OrderBy(r => r.WorkflowId, StringComparer.Ordinal).ToList();
    }

    private async Task<bool> TableExistsAsync(string table) => await ScalarAsync($"SELECT count(*) FROM pg_tables WHERE tablename = '{table}'") > 0;

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
