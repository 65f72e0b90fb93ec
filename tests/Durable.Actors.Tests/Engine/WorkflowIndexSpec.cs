using Akka.Actor;
using Durable.Actors.Journal;
using Durable.Actors.Storage;
using Durable.Actors.Testing;
using Durable.Actors.Tests.Golden;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>The workflow index on real SQLite files: written with the events, equal to a rebuild, paged newest first.</summary>
public sealed class WorkflowIndexSpec : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Shapes that touch every column: parallel branches, a failure, a failed step completed on resume.</summary>
    private static WorkflowRegistry Registry(Func<bool> fails) => new WorkflowRegistry()
        .Add<int, int>("sequence", async (ctx, steps) =>
        {
            var sum = 0;
            for (var i = 0; i < steps; i++)
            {
                var n = i;
                sum += await ctx.StepAsync("step", () => n);
            }
            return sum;
        })
        .Add<int, string>("parallel", async (ctx, _) =>
        {
            var (a, b) = await ctx.ParallelAsync(
                branch => branch.StepAsync("left", () => "l"),
                branch => branch.StepAsync("right", () => "r"));
            return a + b;
        })
        .Add<int, int>("flaky", async (ctx, _) =>
        {
            await ctx.StepAsync("before", () => 1);
            return await ctx.StepAsync("maybe", () => fails() ? throw new InvalidOperationException("not yet") : 2, RetryPolicy.None);
        });

    private static Task<object> Ask(IActorRef coordinator, IWorkflowCommand command) => coordinator.Ask<object>(command, Timeout);

    /// <summary>Runs one workflow of each shape, one second apart on the clock: a-seq, b-par, c-flaky (failed), d-flaky (failed, then completed), e-seq.</summary>
    private static async Task RunShapesAsync(IActorRef coordinator, VirtualClock clock, Action<bool> setFails)
    {
        Assert.IsType<WorkflowCompleted>(await Ask(coordinator, new StartWorkflow("a-seq", "sequence", "3")));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.IsType<WorkflowCompleted>(await Ask(coordinator, new StartWorkflow("b-par", "parallel", "0")));
        clock.Advance(TimeSpan.FromSeconds(1));
        setFails(true);
        Assert.IsType<WorkflowFailed>(await Ask(coordinator, new StartWorkflow("c-flaky", "flaky", "0")));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.IsType<WorkflowFailed>(await Ask(coordinator, new StartWorkflow("d-flaky", "flaky", "0")));
        setFails(false);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.IsType<WorkflowCompleted>(await Ask(coordinator, new ResumeWorkflow("d-flaky")));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.IsType<WorkflowCompleted>(await Ask(coordinator, new StartWorkflow("e-seq", "sequence", "2")));
    }

    private SqliteConnection Open() => Open(_folder.Database);

    private static SqliteConnection Open(string database)
    {
        var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        connection.Open();
        return connection;
    }

    private List<WorkflowIndexRow> IndexRows() => IndexRows(_folder.Database);

    /// <summary>The index rows of <paramref name="database"/>, as the journal's writer wrote them.</summary>
    internal static List<WorkflowIndexRow> IndexRows(string database)
    {
        using var connection = Open(database);
        return WorkflowIndexStore.All(connection);
    }

    private List<WorkflowIndexRow> FoldedRows() => FoldedRows(_folder.Database);

    /// <summary>The index as the in-memory fold makes it from every stored event, read without the engine.</summary>
    internal static List<WorkflowIndexRow> FoldedRows(string database)
    {
        using var connection = Open(database);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT persistence_id, message, manifest FROM journal ORDER BY persistence_id, sequence_number";
        var rows = new Dictionary<string, WorkflowIndexRow?>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var id = reader.GetString(0)["workflow-".Length..];
            rows[id] = WorkflowIndex.Apply(rows.GetValueOrDefault(id), id, JournalEventSerializer.Read((byte[])reader.GetValue(1), reader.GetString(2)));
        }
        return rows.Values.Select(r => r!).OrderBy(r => r.WorkflowId, StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task Index_AfterRunsOfEveryShape_EqualsTheFoldOfTheJournalTheStatusAndARebuild()
    {
        var clock = new VirtualClock(T0);
        var fails = false;
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, Registry(() => fails), clock: clock);
        try
        {
            await RunShapesAsync(coordinator, clock, f => fails = f);

            var written = IndexRows();
            Assert.Equal(FoldedRows(), written);
            Assert.Equal(["a-seq", "b-par", "c-flaky", "d-flaky", "e-seq"], written.Select(r => r.WorkflowId));
            foreach (var row in written)
            {
                var status = (await DurableWorkflows.GetStatusAsync(system, row.WorkflowId))!;
                Assert.Equal(
                    (WorkflowIndex.StatusText(status.Status), status.WorkflowType, status.StartedAt, status.EndedAt, status.Error, status.Steps.Count),
                    (row.Status, row.WorkflowType, row.CreatedAt, row.EndedAt, row.Error, row.StepCount));
                Assert.Equal(status.Steps.Count(s => s.Status == StepStatus.Completed), row.CompletedSteps);
                Assert.Equal(status.Steps.Sum(s => s.Failures.Count), row.FailedAttempts);
                Assert.Null(row.WakeAt);
            }
            var resumed = written.Single(r => r.WorkflowId == "d-flaky");
            Assert.Equal(("completed", 2, 2, 1, T0.AddSeconds(4), (string?)null), (resumed.Status, resumed.StepCount, resumed.CompletedSteps, resumed.FailedAttempts, resumed.UpdatedAt, resumed.Error));
            var failed = written.Single(r => r.WorkflowId == "c-flaky");
            Assert.Equal(("failed", 2, 1, 1), (failed.Status, failed.StepCount, failed.CompletedSteps, failed.FailedAttempts));
            Assert.Contains("not yet", failed.Error);

            using (var connection = Open())
                WorkflowIndexStore.Rebuild(connection);
            Assert.Equal(written, IndexRows());
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task Resume_OfAFailedWorkflowThatThenWaits_IndexSaysRunningWhileItWaits()
    {
        // A step's start does not write the status (one UPDATE per step): the resume's own record must set it running.
        var fails = true;
        var registry = new WorkflowRegistry().Add<int, string>("fail-then-wait", async (ctx, _) =>
        {
            await ctx.StepAsync("maybe", () => fails ? throw new InvalidOperationException("not yet") : 1, RetryPolicy.None);
            await ctx.WaitForSignalAsync<string>("go");
            return "done";
        });
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, registry);
        try
        {
            Assert.IsType<WorkflowFailed>(await Ask(coordinator, new StartWorkflow("w", "fail-then-wait", "0")));
            Assert.Equal("failed", IndexRows().Single().Status);

            fails = false;
            Assert.IsType<WorkflowWaiting>(await Ask(coordinator, new ResumeWorkflow("w")));
            var row = IndexRows().Single();
            Assert.Equal(("running", (DateTimeOffset?)null, 1, 1), (row.Status, row.EndedAt, row.CompletedSteps, row.FailedAttempts));
            Assert.Equal(FoldedRows(), IndexRows());
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task Start_OnADatabaseWhoseIndexWasDeleted_BuildsItAgainEqualToTheOneWritten()
    {
        var clock = new VirtualClock(T0);
        var fails = false;
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, Registry(() => fails), clock: clock);
        await RunShapesAsync(coordinator, clock, f => fails = f);
        await system.Terminate();
        var written = IndexRows();
        using (var connection = Open())
        using (var drop = connection.CreateCommand())
        {
            drop.CommandText = "DROP TABLE workflow_index";
            drop.ExecuteNonQuery();
        }

        (system, coordinator) = TestSupport.Engine.Start(_folder.Database, Registry(() => false), clock: clock);
        try
        {
            Assert.Equal(written, IndexRows());
            // And the index goes on being written after the rebuild.
            clock.Advance(TimeSpan.FromSeconds(10));
            Assert.IsType<WorkflowCompleted>(await Ask(coordinator, new StartWorkflow("f-seq", "sequence", "1")));
            Assert.Equal(FoldedRows(), IndexRows());
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task Start_OnTheGoldenDatabaseWrittenBeforeTheIndex_BuildsIt()
    {
        File.Copy(GoldenFiles.Output("workflows.db"), _folder.Database);
        using (var connection = Open())
            Assert.False(WorkflowIndexStore.Exists(connection));

        var (system, _) = TestSupport.Engine.Start(_folder.Database, new WorkflowRegistry(), extraHocon: "durable-actors.recover-on-start = off");
        try
        {
            Assert.Equal(FoldedRows(), IndexRows());
            var page = await DurableWorkflows.ListAsync(system, new WorkflowQuery());
            Assert.Equal(
                ["charge-1 Failed 2", "flaky-1 Completed 1", "onboarding-1 Completed 5", "waiting-1 Running 2"],
                page.Items.Select(w => $"{w.WorkflowId} {w.Status} {w.StepCount}").Order());
            Assert.Null(page.NextCursor);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task ListAsync_WithLimitFiltersAndCursor_PagesNewestFirst()
    {
        var clock = new VirtualClock(T0);
        var fails = false;
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, Registry(() => fails), clock: clock);
        try
        {
            await RunShapesAsync(coordinator, clock, f => fails = f);

            var first = await DurableWorkflows.ListAsync(system, new WorkflowQuery { Limit = 2 });
            Assert.Equal(["e-seq", "d-flaky"], first.Items.Select(w => w.WorkflowId));
            var second = await DurableWorkflows.ListAsync(system, new WorkflowQuery { Limit = 2, After = first.NextCursor });
            Assert.Equal(["c-flaky", "b-par"], second.Items.Select(w => w.WorkflowId));
            var last = await DurableWorkflows.ListAsync(system, new WorkflowQuery { Limit = 2, After = second.NextCursor });
            Assert.Equal(["a-seq"], last.Items.Select(w => w.WorkflowId));
            Assert.Null(last.NextCursor);

            var completed = await DurableWorkflows.ListAsync(system, new WorkflowQuery { Status = WorkflowRunStatus.Completed });
            Assert.Equal(["e-seq", "d-flaky", "b-par", "a-seq"], completed.Items.Select(w => w.WorkflowId));
            var failed = Assert.Single((await DurableWorkflows.ListAsync(system, new WorkflowQuery { Status = WorkflowRunStatus.Failed })).Items);
            Assert.Equal(("c-flaky", "flaky", T0.AddSeconds(2)), (failed.WorkflowId, failed.WorkflowType, failed.StartedAt));
            Assert.Empty((await DurableWorkflows.ListAsync(system, new WorkflowQuery { Status = WorkflowRunStatus.Running })).Items);
            var sequences = await DurableWorkflows.ListAsync(system, new WorkflowQuery { Type = "sequence", Limit = 1 });
            Assert.Equal(["e-seq"], sequences.Items.Select(w => w.WorkflowId));
            var next = await DurableWorkflows.ListAsync(system, new WorkflowQuery { Type = "sequence", Limit = 1, After = sequences.NextCursor });
            Assert.Equal(["a-seq"], next.Items.Select(w => w.WorkflowId));
            Assert.Null(next.NextCursor);
            Assert.Empty((await DurableWorkflows.ListAsync(system, new WorkflowQuery { Type = "flaky", Status = WorkflowRunStatus.Running })).Items);

            await Assert.ThrowsAsync<ArgumentException>(() => DurableWorkflows.ListAsync(system, new WorkflowQuery { After = "not-a-cursor" }));
            await Assert.ThrowsAsync<ArgumentException>(() => DurableWorkflows.ListAsync(system, new WorkflowQuery { After = "c1.!!!" }));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => DurableWorkflows.ListAsync(system, new WorkflowQuery { Limit = 0 }));
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task ListAsync_WithAnIdPrefix_ListsOnlyTheIdsStartingWithItExactlyNewestFirst()
    {
        var clock = new VirtualClock(T0);
        var (system, coordinator) = TestSupport.Engine.Start(_folder.Database, Registry(() => false), clock: clock);
        try
        {
            string[] ids = ["team-a-1", "team-a-2", "team-ab", "team-b-1", "Team-a-9", "50%-off", "50x-off", "z\uD7FF-1", "z\uD7FFa", "z\uE000"];
            foreach (var id in ids)
            {
                Assert.IsType<WorkflowCompleted>(await Ask(coordinator, new StartWorkflow(id, "sequence", "1")));
                clock.Advance(TimeSpan.FromSeconds(1));
            }

            async Task<string[]> List(string? prefix, int limit = 50) =>
                (await DurableWorkflows.ListAsync(system, new WorkflowQuery { IdPrefix = prefix, Limit = limit })).Items.Select(w => w.WorkflowId).ToArray();

            Assert.Equal(["team-ab", "team-a-2", "team-a-1"], await List("team-a"));
            Assert.Equal(["team-a-2", "team-a-1"], await List("team-a-"));
            Assert.Equal(["Team-a-9"], await List("Team"));
            Assert.Equal(["50%-off"], await List("50%"));
            Assert.Equal(["z\uD7FFa", "z\uD7FF-1"], await List("z\uD7FF"));
            Assert.Empty(await List("team-c"));
            Assert.Equal(ids.Length, (await List(null)).Length);
            Assert.Equal(ids.Length, (await List("")).Length);
            var page = await DurableWorkflows.ListAsync(system, new WorkflowQuery { IdPrefix = "team-", Limit = 2 });
            var rest = await DurableWorkflows.ListAsync(system, new WorkflowQuery { IdPrefix = "team-", Limit = 2, After = page.NextCursor });
            Assert.Equal(["team-b-1", "team-ab", "team-a-2", "team-a-1"], page.Items.Concat(rest.Items).Select(w => w.WorkflowId));
        }
        finally
        {
            await system.Terminate();
        }
    }
}
