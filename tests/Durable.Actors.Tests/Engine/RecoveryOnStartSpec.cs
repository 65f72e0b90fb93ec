using Akka.Actor;
using Akka.TestKit.Xunit2;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>A host that stops with workflows half way; the next host on the same database resumes them by itself.</summary>
public sealed class RecoveryOnStartSpec : TestKit, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly string[] WorkflowIds = ["a", "b", "c", "done"];
    private readonly TempFolder _folder = new();
    private readonly EffectRecorder _counter = new();
    private volatile bool _hang = true;

    private WorkflowRegistry Registry() => new WorkflowRegistry().Add<int, int>("two-steps", async (ctx, n) =>
    {
        var a = await ctx.StepAsync("first", () => { _counter.Record($"{ctx.WorkflowId} first"); return n; });
        if (n > 0 && _hang)
#pragma warning disable DURABLE0002 // The first run hangs here until its host stops: a wait the engine must not know of.
            await Task.Delay(System.Threading.Timeout.Infinite, ctx.CancellationToken);
#pragma warning restore DURABLE0002
        return a + await ctx.StepAsync("second", () => { _counter.Record($"{ctx.WorkflowId} second"); return 10; });
    });

    /// <summary>Three workflows stopped between their steps, one completed and one failed, all in the first host.</summary>
    private async Task LeaveUnfinishedWorkflowsAsync(string? extraHocon = null)
    {
        var (first, coordinator) = TestSupport.Engine.Start(_folder.Database, Registry(), extraHocon: extraHocon);
        var done = await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("done", "two-steps", "0"), Timeout);
        Assert.Equal(10, done.GetResult<int>());
        foreach (var id in new[] { "a", "b", "c" })
            coordinator.Tell(new StartWorkflow(id, "two-steps", "1"), ActorRefs.NoSender);
        // Their first steps' completions durable (the bodies ran a moment before): the stop leaves them between their steps.
        await AwaitConditionAsync(async () => await TestSupport.Engine.StepCompletedAsync(first, "a", "first")
            && await TestSupport.Engine.StepCompletedAsync(first, "b", "first") && await TestSupport.Engine.StepCompletedAsync(first, "c", "first"),
            Timeout, interval: TestSupport.Polling.Interval);
        await first.Terminate();
        _hang = false;
    }

    [Fact]
    public async Task Start_OfAHost_ResumesEveryStartedWorkflowThatNeitherCompletedNorFailed()
    {
        await LeaveUnfinishedWorkflowsAsync();

        var (second, _) = TestSupport.Engine.Start(_folder.Database, Registry());
        try
        {
            await AwaitAssertAsync(async () =>
            {
                var statuses = await DurableWorkflows.ListAsync(second);
                Assert.All(statuses, s => Assert.Equal(WorkflowRunStatus.Completed, s.Status));
            }, Timeout);

            Assert.Empty(await DurableWorkflows.GetPendingAsync(second));
            Assert.All(WorkflowIds, id => Assert.Equal(1, _counter.Count($"{id} first")));
            Assert.All(WorkflowIds, id => Assert.Equal(1, _counter.Count($"{id} second")));
            Assert.All(await DurableWorkflows.ListAsync(second), s => Assert.Equal(s.WorkflowId == "done" ? "10" : "11", s.ResultJson));
        }
        finally
        {
            await second.Terminate();
        }
    }

    [Fact]
    public async Task GetPendingAsync_WithRecoveryTurnedOff_ListsTheUnfinishedWorkflowsAndNothingRuns()
    {
        await LeaveUnfinishedWorkflowsAsync();

        var (second, coordinator) = TestSupport.Engine.Start(_folder.Database, Registry(), extraHocon: "durable-actors.recover-on-start = off");
        try
        {
            // A workflow run to its end in this host proves the host is up and working.
            await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("other", "two-steps", "0"), Timeout);

            Assert.Equal(["a", "b", "c"], await DurableWorkflows.GetPendingAsync(second));
            Assert.Equal(0, _counter.Count("a second") + _counter.Count("b second") + _counter.Count("c second"));
        }
        finally
        {
            await second.Terminate();
        }
    }

    [Fact]
    public async Task Start_OnTheApplicationsOwnPersistencePlugins_FindsTheUnfinishedWorkflowsThroughTheReadJournalAndResumesThem()
    {
        // Plain Akka.Persistence.Sql plugins of the application's own, on a database of its own: the engine's SQLite
        // paths (its writer, its recovery reads, its pending query) are not used at all.
        var own = Path.Combine(_folder.Path, "own.db").Replace("\\", "\\\\");
        var plugins = $$"""
            app.journal {
              class = "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql"
              plugin-dispatcher = "akka.persistence.dispatchers.default-plugin-dispatcher"
              provider-name = "SQLite.MS"
              connection-string = "Data Source={{own}}"
              auto-initialize = on
            }
            app.query {
              class = "Akka.Persistence.Sql.Query.SqlReadJournalProvider, Akka.Persistence.Sql"
              write-plugin = "app.journal"
              provider-name = "SQLite.MS"
              connection-string = "Data Source={{own}}"
              refresh-interval = 50ms
              journal-sequence-retrieval.query-delay = 50ms
            }
            durable-actors.journal-plugin = "app.journal"
            durable-actors.query-plugin = "app.query"
            """;
        await LeaveUnfinishedWorkflowsAsync(plugins);

        var (second, _) = TestSupport.Engine.Start(_folder.Database, Registry(), extraHocon: plugins);
        try
        {
            await AwaitAssertAsync(async () =>
            {
                var statuses = await DurableWorkflows.ListAsync(second);
                Assert.Equal(["a", "b", "c", "done"], statuses.Select(s => s.WorkflowId));
                Assert.All(statuses, s => Assert.Equal(WorkflowRunStatus.Completed, s.Status));
            }, Timeout);

            Assert.Empty(await DurableWorkflows.GetPendingAsync(second));
            Assert.All(WorkflowIds, id => Assert.Equal(1, _counter.Count($"{id} second")));
        }
        finally
        {
            await second.Terminate();
        }
    }

    public new void Dispose()
    {
        _folder.Dispose();
        base.Dispose();
    }
}
