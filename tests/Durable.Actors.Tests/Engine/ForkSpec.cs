using System.Text.RegularExpressions;
using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// Fork (<see cref="ForkWorkflow"/>): a new workflow that replays what an ended one recorded before a point and runs
/// the rest with the code deployed now; the source is not changed.
/// </summary>
public sealed class ForkSpec(ITestOutputHelper output) : EngineSpec(output, "durable-actors.passivate-after = 500ms")
{
    private readonly EffectRecorder _effects = new();
    private volatile bool _declined = true;

    private WorkflowRegistry Registry() => new WorkflowRegistry()
        .Add<int, string>("order", async (ctx, quantity) =>
        {
            var reservation = await ctx.StepAsync("reserve", () => { _effects.Record("reserve"); return $"R{quantity}"; });
            var payment = await ctx.StepAsync("charge", () =>
            {
                _effects.Record("charge");
                return _declined ? throw new InvalidOperationException("card declined") : "paid";
            }, RetryPolicy.None);
            return await ctx.StepAsync("ship", () => { _effects.Record("ship"); return $"{reservation} {payment} shipped {quantity}"; });
        })
        .Add<string, string>("approval", async (ctx, _) =>
        {
            await ctx.StepAsync("submit", () => _effects.Record("submit"));
            var decision = (await ctx.WaitForSignalAsync<string>("approve")).Payload!;
            return await ctx.StepAsync("notify", () => { _effects.Record("notify"); return $"notified {decision}"; });
        })
        .Add<int, string>("charge", async (ctx, amount) =>
            await ctx.StepAsync("charge", () => { _effects.Record($"charge {amount}"); return $"charged {amount}"; }))
        .Add<string, string>("batch", async (ctx, _) =>
        {
            var first = await ctx.RunChildAsync<int, string>("charge", 1);
            var second = await ctx.RunChildAsync<int, string>("charge", 2);
            return $"{first}, {second}";
        });

    [Fact]
    public async Task FailedWorkflow_ForkedAtItsFailedStep_RunsFromThereWithTodaysCode_AndTheSourceStaysAsItWas()
    {
        var coordinator = StartEngine(Registry());
        Assert.Contains("card declined", (await coordinator.Ask<WorkflowFailed>(new StartWorkflow("order-1", "order", "3"), RunTimeout)).Error, StringComparison.Ordinal);
        var sourceRows = JournalRows.Of(Folder.Database, "order-1");
        _declined = false;

        var forked = await coordinator.Ask<WorkflowCompleted>(new ForkWorkflow("order-1b", "order-1", From: "2"), RunTimeout);

        Assert.Equal("\"R3 paid shipped 3\"", forked.ResultJson);
        // The reservation replayed from the source's record; the charge ran again, and what follows it.
        Assert.Equal((1, 2, 1), (_effects.Count("reserve"), _effects.Count("charge"), _effects.Count("ship")));
        var status = (await DurableWorkflows.GetStatusAsync(Sys, "order-1b"))!;
        Assert.Equal(("order-1", "order-1:2"), (status.ForkedFrom, status.ForkedFromKey));
        Assert.Equal(["order-1b:1 reserve", "order-1b:2 charge", "order-1b:3 ship"], status.Steps.Select(s => $"{s.Key} {s.StepId}"));
        Assert.Equal(sourceRows, JournalRows.Of(Folder.Database, "order-1"));
        Assert.Equal(WorkflowRunStatus.Failed, (await DurableWorkflows.GetStatusAsync(Sys, "order-1"))!.Status);
    }

    [Fact]
    public async Task ClientFork_FromTheTopRunsEveryStepAgain_AndAForkWithANewInputKeepsTheResultsCarried()
    {
        _declined = false;
        var coordinator = StartEngine(Registry());
        await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("order-2", "order", "5"), RunTimeout);
        var client = DurableWorkflows.Client(Sys);

        var restarted = await client.ForkAsync<string>("order-2");
        var reshipped = await client.ForkAsync<int, string>("order-2", 9,
            new ForkOptions { From = "order-2:3", WorkflowId = "order-2-nine", Timeout = TimeSpan.FromHours(1) });

        Assert.Matches(new Regex("^order-2-fork-[0-9a-f]{8}$"), restarted.WorkflowId);
        Assert.Equal("R5 paid shipped 5", await restarted.GetResultAsync());
        // The reservation and the charge were recorded before the point: the new input reaches the shipping alone.
        Assert.Equal("R5 paid shipped 9", await reshipped.GetResultAsync());
        Assert.Equal((2, 2, 3), (_effects.Count("reserve"), _effects.Count("charge"), _effects.Count("ship")));
        var status = await reshipped.GetStatusAsync();
        Assert.NotNull(status.Deadline);
        Assert.Equal(("order-2", (string?)null), ((await restarted.GetStatusAsync()).ForkedFrom, (await restarted.GetStatusAsync()).ForkedFromKey));
    }

    [Fact]
    public async Task ForkAtASignalWait_GetsTheSignalTheSourceReceivedAgain_AndAForkAfterItReplaysTheWait()
    {
        var coordinator = StartEngine(Registry());
        Assert.IsType<WorkflowWaiting>(await coordinator.Ask<object>(new StartWorkflow("claim-1", "approval"), RunTimeout));
        await coordinator.Ask<SignalDelivered>(new SignalWorkflow("claim-1", "approve", "\"yes\""), RunTimeout);
        await coordinator.Ask<WorkflowCompleted>(new ResumeWorkflow("claim-1"), RunTimeout);

        var atTheWait = await coordinator.Ask<WorkflowCompleted>(new ForkWorkflow("claim-1b", "claim-1", "claim-1:2"), RunTimeout);
        var afterIt = await coordinator.Ask<WorkflowCompleted>(new ForkWorkflow("claim-1c", "claim-1", "3"), RunTimeout);

        Assert.Equal("\"notified yes\"", atTheWait.ResultJson);
        Assert.Equal("\"notified yes\"", afterIt.ResultJson);
        Assert.Equal((1, 3), (_effects.Count("submit"), _effects.Count("notify")));
    }

    [Fact]
    public async Task ForkBetweenTwoChildren_KeepsTheFirstChildsResult_AndStartsTheSecondAsItsOwnChild()
    {
        var coordinator = StartEngine(Registry());
        await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("batch-1", "batch"), RunTimeout);
        var secondStart = (await DurableWorkflows.GetStatusAsync(Sys, "batch-1"))!.Steps.Single(s => s.StepId == "start-child:batch-1/2").Key;

        var forked = await coordinator.Ask<WorkflowCompleted>(new ForkWorkflow("batch-2", "batch-1", secondStart), RunTimeout);

        Assert.Equal("\"charged 1, charged 2\"", forked.ResultJson);
        Assert.Equal((1, 2), (_effects.Count("charge 1"), _effects.Count("charge 2")));
        Assert.Equal(WorkflowRunStatus.Completed, (await DurableWorkflows.GetStatusAsync(Sys, "batch-2/2"))!.Status);
        Assert.Null(await DurableWorkflows.GetStatusAsync(Sys, "batch-2/1"));
    }

    [Fact]
    public async Task SameForkSentAgain_JoinsIt_AndEveryBadForkIsRefusedWithItsReasonAndChangesNothing()
    {
        _declined = false;
        var coordinator = StartEngine(Registry());
        await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("order-3", "order", "1"), RunTimeout);
        Assert.IsType<WorkflowWaiting>(await coordinator.Ask<object>(new StartWorkflow("claim-2", "approval"), RunTimeout));
        var first = await coordinator.Ask<WorkflowCompleted>(new ForkWorkflow("order-3b", "order-3", "3"), RunTimeout);
        var rows = JournalRows.Of(Folder.Database, "order-3b");

        var again = await coordinator.Ask<WorkflowCompleted>(new ForkWorkflow("order-3b", "order-3", "order-3:3"), RunTimeout);

        Assert.Equal(first.ResultJson, again.ResultJson);
        Assert.Equal(2, _effects.Count("ship"));
        Assert.Equal(rows, JournalRows.Of(Folder.Database, "order-3b"));
        async Task<string> Refused(ForkWorkflow fork) => (await coordinator.Ask<WorkflowRejected>(fork, RunTimeout)).Reason;
        Assert.Equal("workflow 'order-3b' exists already: fork to an id that does not exist; nothing was changed",
            await Refused(new ForkWorkflow("order-3b", "order-3", "2")));
        Assert.Equal("source workflow 'claim-2' is RUNNING: only a completed, failed or cancelled workflow can be forked (cancel it first)",
            await Refused(new ForkWorkflow("claim-2b", "claim-2")));
        Assert.Equal("source workflow 'nobody' does not exist", await Refused(new ForkWorkflow("nobody-b", "nobody")));
        Assert.Equal("workflow 'order-3' has no operation at key 'order-3:7' (its keys: order-3:1, order-3:2, order-3:3)",
            await Refused(new ForkWorkflow("order-3c", "order-3", "7")));
        Assert.StartsWith("input does not read as Int32", await Refused(new ForkWorkflow("order-3d", "order-3", InputJson: "\"many\"")), StringComparison.Ordinal);
        Assert.Equal("the timeout must be more than zero, not 00:00:00",
            await Refused(new ForkWorkflow("order-3e", "order-3") { Timeout = TimeSpan.Zero }));
        Assert.All(["claim-2b", "nobody-b", "order-3c", "order-3d", "order-3e"], id => Assert.Empty(JournalRows.Of(Folder.Database, id)));
    }
}
