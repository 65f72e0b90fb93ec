using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// Purge (<see cref="PurgeWorkflow"/>): an ended workflow's events, index row and signals are deleted in one
/// transaction; a running or paused one is refused; an id purged and started again is a new workflow that runs its code.
/// </summary>
public sealed class PurgeSpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.passivate-after = 500ms")
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-12-06T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private readonly EffectRecorder _effects = new();

    private WorkflowRegistry Registry() => new WorkflowRegistry()
        .Add<int, string>("charge", async (ctx, amount) =>
            await ctx.StepAsync("charge", () => { _effects.Record("charge"); return $"charged {amount}"; }))
        .Add<string, string>("approval", async (ctx, _) =>
        {
            await ctx.StepAsync("submit", () => { _effects.Record("submit"); return "submitted"; });
            return (await ctx.WaitForSignalAsync<string>("approve")).Payload!;
        })
        .Add<int, string>("batch", async (ctx, count) =>
        {
            for (var i = 1; i <= count; i++)
                await ctx.RunChildAsync<int, string>("charge", i);
            return "all charged";
        });

    private async Task<IReadOnlyList<string>> IndexedIdsAsync() =>
        (await DurableWorkflows.ListAsync(Sys, new WorkflowQuery { Limit = WorkflowQuery.MaxLimit })).Items.Select(w => w.WorkflowId).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task CompletedWorkflow_Purged_LeavesNoRow_AndItsIdStartedAgainRunsItsCodeAnew()
    {
        var coordinator = StartEngine(Registry());
        Assert.Equal("\"charged 5\"", (await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("pay-1", "charge", "5"), RunTimeout)).ResultJson);
        Assert.NotEmpty(JournalRows.Of(Folder.Database, "pay-1"));

        Assert.IsType<WorkflowPurged>(await coordinator.Ask<object>(new PurgeWorkflow("pay-1"), RunTimeout));

        Assert.Empty(JournalRows.Of(Folder.Database, "pay-1"));
        Assert.Empty(await IndexedIdsAsync());
        Assert.Null(await DurableWorkflows.GetStatusAsync(Sys, "pay-1"));
        Assert.IsType<WorkflowNotFound>(await coordinator.Ask<object>(new PurgeWorkflow("pay-1"), RunTimeout));
        // Never the old result: a new workflow with its own input, whose step runs.
        Assert.Equal("\"charged 7\"", (await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("pay-1", "charge", "7"), RunTimeout)).ResultJson);
        Assert.Equal(2, _effects.Count("charge"));
    }

    [Fact]
    public async Task StartSentRightBehindThePurge_WaitsForIt_AndStartsANewWorkflow()
    {
        var coordinator = StartEngine(Registry());
        await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("pay-2", "charge", "5"), RunTimeout);

        coordinator.Tell(new PurgeWorkflow("pay-2"), TestActor);
        coordinator.Tell(new StartWorkflow("pay-2", "charge", "9"), TestActor);

        await ExpectMsgAsync<WorkflowPurged>(RunTimeout);
        Assert.Equal("\"charged 9\"", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).ResultJson);
        Assert.Equal(2, _effects.Count("charge"));
    }

    [Fact]
    public async Task RunningOrPausedWorkflow_IsRefused_AndNothingChanges()
    {
        var coordinator = StartEngine(Registry());
        Assert.IsType<WorkflowWaiting>(await coordinator.Ask<object>(new StartWorkflow("claim-1", "approval"), RunTimeout));
        var rows = JournalRows.Of(Folder.Database, "claim-1");

        var running = await coordinator.Ask<WorkflowRejected>(new PurgeWorkflow("claim-1"), RunTimeout);
        await coordinator.Ask<WorkflowPaused>(new PauseWorkflow("claim-1"), RunTimeout);
        var paused = await coordinator.Ask<WorkflowRejected>(new PurgeWorkflow("claim-1"), RunTimeout);

        Assert.Equal("workflow 'claim-1' is RUNNING: only ended workflows (COMPLETED, FAILED, CANCELLED) are purged; nothing was changed", running.Reason);
        Assert.StartsWith("workflow 'claim-1' is PAUSED: only ended workflows", paused.Reason);
        Assert.Equal(rows.Count + 1, JournalRows.Of(Folder.Database, "claim-1").Count);
        Assert.IsType<WorkflowNotFound>(await coordinator.Ask<object>(new PurgeWorkflow("nobody"), RunTimeout));
    }

    [Fact]
    public async Task WritersPurgeOfEndedWorkflows_DeletesThoseTheIndexSaysEnded_AndKeepsTheOthers()
    {
        var coordinator = StartEngine(Registry());
        await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("pay-5", "charge", "5"), RunTimeout);
        Assert.IsType<WorkflowWaiting>(await coordinator.Ask<object>(new StartWorkflow("claim-5", "approval"), RunTimeout));
        var writer = Storage.JournalAccess.Get(Sys).Current!.Writer;

        Assert.Equal(["pay-5"], await writer.PurgeEndedAsync(["pay-5", "claim-5", "nobody"]));

        Assert.Empty(JournalRows.Of(Folder.Database, "pay-5"));
        Assert.NotEmpty(JournalRows.Of(Folder.Database, "claim-5"));
        Assert.Equal(["claim-5"], await IndexedIdsAsync());
    }

    [Fact]
    public async Task ClientPurge_OfAQuery_PurgesTheEndedOnesItMatchesWithTheirChildrenOnRequest_AndLeavesTheRunning()
    {
        var clock = new VirtualClock(T0);
        var coordinator = StartEngine(Registry(), clock: clock);
        await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("batch-1", "batch", "2"), RunTimeout);
        await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("pay-4", "charge", "4"), RunTimeout);
        await coordinator.Ask<WorkflowWaiting>(new StartWorkflow("claim-2", "approval"), RunTimeout);
        clock.Advance(TimeSpan.FromHours(2));
        await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("pay-3", "charge", "1"), RunTimeout);
        var client = DurableWorkflows.Client(Sys);

        // Its children are of another type: purged with it, first, so that a crash midway leaves the parent, which names them.
        Assert.Equal(["batch-1/1", "batch-1/2", "batch-1"], await client.PurgeAsync(new WorkflowQuery { Type = "batch" }, withChildren: true));
        Assert.Equal(["claim-2", "pay-3", "pay-4"], await IndexedIdsAsync());
        Assert.Equal(["pay-4"], await client.PurgeAsync(new WorkflowQuery { EndedBefore = T0.AddHours(1) }));
        await Assert.ThrowsAsync<ArgumentException>(() => client.PurgeAsync(new WorkflowQuery { Status = WorkflowRunStatus.Running }));
        Assert.Equal(["pay-3"], await client.PurgeAsync(new WorkflowQuery { Status = WorkflowRunStatus.Completed }));
        Assert.Equal(["claim-2"], await IndexedIdsAsync());
    }
}
